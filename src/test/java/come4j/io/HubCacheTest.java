package come4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hub ids resolve in a cache laid out as huggingface_hub writes it: refs, snapshots of links into blobs. */
class HubCacheTest {
    static final String MAIN = "a".repeat(40), V1 = "b".repeat(40);

    static Path fakeCache(Path root) throws Exception {
        Path model = root.resolve("hub/models--org--tiny");
        Files.createDirectories(model.resolve("blobs"));
        Files.writeString(model.resolve("blobs/cfg1"), "{\"main\": true}");
        Files.writeString(model.resolve("blobs/cfg2"), "{\"v1\": true}");
        for (String[] s : new String[][] {{MAIN, "cfg1"}, {V1, "cfg2"}}) {
            Path snap = Files.createDirectories(model.resolve("snapshots/" + s[0]));
            Files.createSymbolicLink(snap.resolve("config.json"), Path.of("../../blobs/" + s[1]));
        }
        Files.createDirectories(model.resolve("refs"));
        Files.writeString(model.resolve("refs/main"), MAIN);
        Files.writeString(model.resolve("refs/v1.0"), V1 + "\n");
        return root.resolve("hub");
    }

    @Test
    void resolvesRefsCommitsAndTheCacheVariables(@TempDir Path tmp) throws Exception {
        Path hub = fakeCache(tmp);
        Map<String, String> env = Map.of("HF_HUB_CACHE", hub.toString());
        Path main = HubCache.resolve("org/tiny", env);
        assertEquals(hub.resolve("models--org--tiny/snapshots/" + MAIN), main);
        assertEquals("{\"main\": true}", Files.readString(main.resolve("config.json")));
        assertEquals(hub.resolve("models--org--tiny/snapshots/" + V1), HubCache.resolve("org/tiny@v1.0", env));
        assertEquals(hub.resolve("models--org--tiny/snapshots/" + V1), HubCache.resolve("org/tiny@" + V1, env));
        assertEquals(main, HubCache.resolve("org/tiny", Map.of("HF_HOME", tmp.toString())), "HF_HOME/hub");
    }

    @Test
    void aLocalFolderWinsAndAMissingModelSaysHowToGetIt(@TempDir Path tmp) throws Exception {
        Path hub = fakeCache(tmp);
        Map<String, String> env = Map.of("HF_HUB_CACHE", hub.toString());
        Path local = Files.createDirectories(tmp.resolve("org/tiny"));
        assertEquals(local, HubCache.resolve(local.toString(), env));
        String m = assertThrows(BadInputException.class, () -> HubCache.resolve("org/absent", env)).line();
        assertTrue(m.contains("org/absent is not in the Hugging Face cache " + hub) && m.contains("huggingface-cli download org/absent"), m);
        m = assertThrows(BadInputException.class, () -> HubCache.resolve("org/tiny@nope", env)).line();
        assertTrue(m.contains("no revision 'nope'") && m.contains("--revision nope"), m);
        m = assertThrows(BadInputException.class, () -> HubCache.resolve("org/tiny@" + "c".repeat(40), env)).line();
        assertTrue(m.contains("has no snapshot"), m);
        assertEquals(Path.of("no-such-folder"), HubCache.resolve("no-such-folder", env), "not an id: left to the checkpoint reader");
    }
}
