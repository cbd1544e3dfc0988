package come4j.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Models named by Hugging Face Hub id, {@code org/name[@revision]}, found in the local Hub cache as huggingface_hub
 * lays it out: {@code <cache>/models--org--name/snapshots/<commit>/} (files linked into {@code blobs/}), with
 * {@code refs/<revision>} holding the commit a branch or tag names. Nothing is downloaded: a model that is not cached is
 * bad input that says how to fetch it. A folder that exists under the given name always wins.
 */
public final class HubCache {
    private static final Pattern ID = Pattern.compile("([A-Za-z0-9][\\w.-]*)/([A-Za-z0-9][\\w.-]*)(?:@([\\w./-]+))?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private HubCache() {}

    /** The model folder {@code spec} names: an existing path, else the cached snapshot of a Hub id. */
    public static Path resolve(String spec) {
        return resolve(spec, System.getenv());
    }

    static Path resolve(String spec, Map<String, String> env) {
        Path local = Path.of(spec);
        Matcher m = ID.matcher(spec);
        if (Files.exists(local) || !m.matches()) return local;
        String repo = m.group(1) + "/" + m.group(2), revision = m.group(3) != null ? m.group(3) : "main";
        Path cache = cacheDir(env), model = cache.resolve("models--" + m.group(1) + "--" + m.group(2));
        String fix = "; no folder " + local.toAbsolutePath() + " either (download it with `huggingface-cli download " + repo
                + (m.group(3) != null ? " --revision " + revision : "") + "`, or give a model folder)";
        if (!Files.isDirectory(model)) throw new BadInputException(null, repo + " is not in the Hugging Face cache " + cache + fix);
        String commit = COMMIT.matcher(revision).matches() ? revision : ref(model, revision);
        if (commit == null)
            throw new BadInputException(null, repo + " has no revision '" + revision + "' in the Hugging Face cache (" + model.resolve("refs") + ")" + fix);
        Path snapshot = model.resolve("snapshots").resolve(commit);
        if (!Files.isDirectory(snapshot))
            throw new BadInputException(null, repo + "@" + revision + " (commit " + commit + ") has no snapshot in the Hugging Face cache (" + snapshot + ")" + fix);
        return snapshot;
    }

    /** HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (huggingface_hub's order). */
    static Path cacheDir(Map<String, String> env) {
        if (notBlank(env.get("HF_HUB_CACHE"))) return Path.of(env.get("HF_HUB_CACHE"));
        if (notBlank(env.get("HF_HOME"))) return Path.of(env.get("HF_HOME"), "hub");
        return Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub");
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }

    /** The commit refs/{@code revision} names, or null. */
    private static String ref(Path model, String revision) {
        Path ref = model.resolve("refs").resolve(revision).normalize();
        if (!ref.startsWith(model.resolve("refs")) || !Files.isRegularFile(ref)) return null;
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8).strip();
            return COMMIT.matcher(commit).matches() ? commit : null;
        } catch (IOException e) {
            throw new BadInputException(ref, "cannot read: " + e.getMessage());
        }
    }
}
