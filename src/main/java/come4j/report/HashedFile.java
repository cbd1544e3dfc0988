package come4j.report;

/** An input text file as the records name it (calibration, training), and the SHA-256 of its bytes. */
public record HashedFile(String file, String sha256) {}
