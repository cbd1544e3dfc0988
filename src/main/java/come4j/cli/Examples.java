package come4j.cli;

/** The demo model's paths, as the Examples sections of the help use them (run from the project folder). */
final class Examples {
    static final String MODEL = "models/sotu-llama-12l-bf16";
    static final String HELDOUT = MODEL + "/heldout.txt";
    static final String CALIB = MODEL + "/calib.txt";
    static final String TASK_DATA = "src/test/resources/eval/data";

    private Examples() {}
}
