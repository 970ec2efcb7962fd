package io.lambdalake.chaos;

/**
 * One fault, done for real against the local stack, followed by the restart an operator would do
 * and a count of what the data shows. A scenario throws when it could not run as planned (a job
 * that exited on its own before the kill, a restart that failed): that is a failed scenario, not a
 * clean one.
 */
public interface Scenario {
  /** The name on the command line and in the progress lines, e.g. {@code kill-landing}. */
  String name();

  /** Runs the fault and the recovery in the run's own tables and topics; counts the outcome. */
  Tally run(ChaosRun run) throws Exception;
}
