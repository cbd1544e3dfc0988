package come4j.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The one mapper between the typed records and their JSON: what is written reads back into an equal record. */
public final class RecordJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RecordJson() {}

    /** {@code record} as the JSON object its file holds. */
    public static ObjectNode tree(Object record) {
        return JSON.valueToTree(record);
    }

    /** The record {@code node} holds; a node that does not fit the record is bad input, named by the record's type. */
    public static <T> T read(JsonNode node, Class<T> type) {
        try {
            return JSON.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            throw new BadInputException(null, "not a " + type.getSimpleName() + " record: " + e.getOriginalMessage(), e);
        }
    }
}
