package io.lambdalake.common.launch;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.config.LakeConfigLoader;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The one way every command starts, from {@code lake} and from each job's main under spark-submit:
 * {@code System.exit(Launcher.run(new CdcCommand(), arguments))}.
 *
 * <p>It parses the arguments (picocli), answers {@code --help} with exit code 0 on every command,
 * loads the configuration once, lets the {@link Job} check its arguments, checks the servers it
 * needs answer ({@link Preflight}), runs it, and maps the outcome onto one {@link ExitCode}. A
 * failure is one line on stderr, {@code lake <command>: <message>}, with its stack trace only under
 * {@code --verbose}. Every run writes a {@link RunRecord} to {@code lake.runs.directory} and, with
 * {@code --run-record FILE} (or an {@code s3a://} URL), there too; failing to write it never hides
 * the job's own outcome.
 */
public final class Launcher {
  static final String VERBOSE = "--verbose";
  static final String RUN_RECORD = "--run-record";
  private static final DateTimeFormatter RUN_ID_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final Pattern SECRET_OPTION =
      Pattern.compile("--[\\w-]*(password|secret|token|credential|api-key)(?![\\w-]*-file)[\\w-]*");
  private static final Pattern SECRET_IN_VALUE =
      Pattern.compile(
          "((?:password|secret|token)=)[^&;\\s]+|(//[^/:@\\s]+:)[^/@\\s]+(@)",
          Pattern.CASE_INSENSITIVE);

  private final Map<String, String> environment;
  private final Map<String, String> overrides;
  private final PrintWriter out;
  private final PrintWriter err;
  private final Clock clock;
  private final List<RunRecordWriter> runRecordWriters = RunRecordTarget.installed();

  /**
   * A launcher that reads the configuration from this environment with these overrides (tests use
   * it to point a run at other servers) and prints to these writers.
   */
  public Launcher(
      Map<String, String> environment,
      Map<String, String> overrides,
      PrintWriter out,
      PrintWriter err,
      Clock clock) {
    this.environment = Map.copyOf(environment);
    this.overrides = Map.copyOf(overrides);
    this.out = requireNonNull(out, "out is null");
    this.err = requireNonNull(err, "err is null");
    this.clock = requireNonNull(clock, "clock is null");
  }

  /** Runs the command with the process's environment; returns the exit code for System.exit. */
  public static int run(Object command, String... arguments) {
    return new Launcher(
            System.getenv(),
            Map.of(),
            new PrintWriter(System.out, true, StandardCharsets.UTF_8),
            new PrintWriter(System.err, true, StandardCharsets.UTF_8),
            Clock.systemUTC())
        .execute(command, arguments);
  }

  /** Runs the command (a picocli command, a {@link Job} or a group of them); returns the code. */
  public int execute(Object command, String... arguments) {
    Instant startedAt = clock.instant();
    CommandLine commandLine = commandLine(command);
    ParseResult parsed;
    try {
      parsed = commandLine.parseArgs(arguments);
    } catch (ParameterException e) {
      Invocation invocation = Invocation.unparsed(e.getCommandLine().getCommandSpec(), arguments);
      String help = invocation.displayName() + " --help";
      return finish(
          invocation,
          startedAt,
          Optional.empty(),
          Map.of(),
          Outcome.failed(
              ErrorCode.INVALID_ARGUMENT, oneLine(e.getMessage()) + " (see " + help + ")", e));
    }
    if (CommandLine.printHelpIfRequested(parsed)) {
      return ExitCode.SUCCESS.code();
    }
    ParseResult leaf = leaf(parsed);
    Invocation invocation = Invocation.parsed(parsed, leaf.commandSpec(), arguments);
    Object userObject = leaf.commandSpec().userObject();
    if (!(userObject instanceof Job job)) {
      return finish(
          invocation,
          startedAt,
          Optional.empty(),
          Map.of(),
          Outcome.failed(
              ErrorCode.INVALID_ARGUMENT,
              "choose a command: "
                  + String.join(", ", leaf.commandSpec().subcommands().keySet())
                  + " (see "
                  + invocation.displayName()
                  + " --help)",
              null));
    }
    return launch(job, invocation, startedAt);
  }

  private int launch(Job job, Invocation invocation, Instant startedAt) {
    Optional<LakeConfig> config = Optional.empty();
    JobContext context = null;
    Outcome outcome;
    try {
      Map<String, String> merged = new LinkedHashMap<>(overrides);
      merged.putAll(job.configOverrides());
      config = Optional.of(LakeConfigLoader.load(environment, merged));
      validate(job, config.get());
      invocation.runRecord().ifPresent(target -> target.check(runRecordWriters));
      Preflight.check(job.servers(config.get()), config.get().launch().preflightTimeout());
      context = new JobContext(config.get());
      job.run(context);
      outcome = Outcome.SUCCEEDED;
    } catch (Throwable failure) {
      ErrorCode errorCode = ExitCode.classify(failure);
      outcome = Outcome.failed(errorCode, message(failure, errorCode), failure);
      if (failure instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    } finally {
      out.flush();
    }
    return finish(
        invocation, startedAt, config, context == null ? Map.of() : context.counts(), outcome);
  }

  /** A job's check of its arguments: whatever it throws is about an argument, a user error. */
  private static void validate(Job job, LakeConfig config) {
    try {
      job.validate(config);
    } catch (IllegalArgumentException | DateTimeException e) {
      throw new LakeException(ErrorCode.INVALID_ARGUMENT, oneLine(e.getMessage()), e);
    }
  }

  private int finish(
      Invocation invocation,
      Instant startedAt,
      Optional<LakeConfig> config,
      Map<String, Long> counts,
      Outcome outcome) {
    if (invocation.verbose()) {
      outcome.failure().ifPresent(failure -> failure.printStackTrace(err));
    }
    outcome.message().ifPresent(message -> err.println(invocation.displayName() + ": " + message));
    RunRecord record =
        new RunRecord(
            invocation.jobName(),
            RUN_ID_TIME.format(startedAt) + "-" + UUID.randomUUID().toString().substring(0, 8),
            masked(invocation.arguments()),
            startedAt,
            clock.instant(),
            outcome.exitCode(),
            outcome.errorCode(),
            outcome.message(),
            new TreeMap<>(counts),
            Versions.current());
    write(record, invocation, config.or(this::configForRecord));
    err.flush();
    return outcome.exitCode().code();
  }

  /**
   * Writes the run record to the runs directory and to --run-record's file, each on its own: a
   * failure to write one is reported on a line of its own, never in place of the outcome.
   */
  private void write(RunRecord record, Invocation invocation, Optional<LakeConfig> config) {
    if (config.isPresent()) {
      Path directory = config.get().launch().runsDirectory();
      try {
        record.writeTo(directory);
      } catch (IOException | RuntimeException e) {
        reportUnwritten(record, invocation, directory, e);
      }
    }
    if (invocation.runRecord().isPresent()) {
      RunRecordTarget target = invocation.runRecord().get();
      try {
        target.write(record, runRecordWriters, config);
      } catch (IOException | RuntimeException e) {
        reportUnwritten(record, invocation, target, e);
      }
    }
  }

  private void reportUnwritten(
      RunRecord record, Invocation invocation, Object where, Exception failure) {
    err.println(
        invocation.displayName()
            + ": could not write the run record to "
            + where
            + " ("
            + failure.getClass().getSimpleName()
            + ": "
            + oneLine(failure.getMessage())
            + "); the run "
            + record.status()
            + " with exit code "
            + record.exitCode().code());
  }

  /** The configuration after a run failed before loading it, only to know where records go. */
  private Optional<LakeConfig> configForRecord() {
    try {
      return Optional.of(LakeConfigLoader.load(environment, overrides));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private CommandLine commandLine(Object command) {
    CommandLine commandLine =
        new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true).setOut(out).setErr(err);
    addLauncherOptions(commandLine);
    return commandLine;
  }

  /** Every command gets --help, --verbose and --run-record, whatever it declares itself. */
  private static void addLauncherOptions(CommandLine commandLine) {
    CommandSpec spec = commandLine.getCommandSpec();
    if (spec.optionsMap().get("--help") == null) {
      String[] names =
          spec.optionsMap().containsKey("-h")
              ? new String[] {"--help"}
              : new String[] {"-h", "--help"};
      spec.addOption(
          OptionSpec.builder(names)
              .usageHelp(true)
              .description("Show this help message and exit.")
              .build());
    }
    if (spec.optionsMap().get(VERBOSE) == null) {
      spec.addOption(
          OptionSpec.builder(VERBOSE).description("Print the stack trace of a failure.").build());
    }
    if (spec.optionsMap().get(RUN_RECORD) == null) {
      spec.addOption(
          OptionSpec.builder(RUN_RECORD)
              .paramLabel("FILE|URL")
              .type(String.class)
              .description(
                  "Also write this run's record (status, exit code, error, counts) to FILE, or to"
                      + " an s3a:// URL (a cluster-mode driver's record where the submitter can"
                      + " read it).")
              .build());
    }
    commandLine.getSubcommands().values().forEach(Launcher::addLauncherOptions);
  }

  private static ParseResult leaf(ParseResult parsed) {
    ParseResult leaf = parsed;
    while (leaf.subcommand() != null) {
      leaf = leaf.subcommand();
    }
    return leaf;
  }

  private static String message(Throwable failure, ErrorCode errorCode) {
    Optional<LakeException> lake = ExitCode.cause(failure, LakeException.class);
    if (lake.isPresent()) {
      return oneLine(lake.get().getMessage());
    }
    String text = failure.getMessage() == null ? "" : ": " + oneLine(failure.getMessage());
    String kind =
        errorCode == ErrorCode.SERVER_NOT_AVAILABLE ? "a server failed" : "internal error";
    return kind
        + ", "
        + failure.getClass().getName()
        + text
        + " (--verbose prints the stack trace)";
  }

  static String oneLine(String message) {
    if (message == null || message.isBlank()) {
      return "(no message)";
    }
    return message.strip().lines().findFirst().orElse(message).strip();
  }

  /** The command line with the values of secret options and passwords inside URLs masked. */
  static List<String> masked(List<String> arguments) {
    List<String> masked = new ArrayList<>();
    boolean nextIsSecret = false;
    for (String argument : arguments) {
      if (nextIsSecret) {
        masked.add("****");
        nextIsSecret = false;
        continue;
      }
      int equals = argument.indexOf('=');
      String name =
          equals > 0 && argument.startsWith("--") ? argument.substring(0, equals) : argument;
      if (SECRET_OPTION.matcher(name).matches()) {
        if (equals > 0 && argument.startsWith("--")) {
          masked.add(name + "=****");
        } else {
          masked.add(argument);
          nextIsSecret = true;
        }
        continue;
      }
      masked.add(SECRET_IN_VALUE.matcher(argument).replaceAll("$1$2****$3"));
    }
    return masked;
  }

  /** How a run ended. */
  private record Outcome(
      ExitCode exitCode,
      Optional<ErrorCode> errorCode,
      Optional<String> message,
      Optional<Throwable> failure) {
    static final Outcome SUCCEEDED =
        new Outcome(ExitCode.SUCCESS, Optional.empty(), Optional.empty(), Optional.empty());

    static Outcome failed(ErrorCode errorCode, String message, Throwable failure) {
      return new Outcome(
          ExitCode.of(errorCode),
          Optional.of(errorCode),
          Optional.of(message),
          Optional.ofNullable(failure));
    }
  }

  /** Which command ran, with what, and the launcher's own options. */
  private record Invocation(
      List<String> names,
      List<String> arguments,
      boolean verbose,
      Optional<RunRecordTarget> runRecord) {
    Invocation {
      names = List.copyOf(names);
      arguments = List.copyOf(arguments);
    }

    static Invocation parsed(ParseResult parsed, CommandSpec leaf, String[] arguments) {
      boolean verbose = false;
      Optional<RunRecordTarget> runRecord = Optional.empty();
      for (ParseResult level = parsed; level != null; level = level.subcommand()) {
        verbose |= level.hasMatchedOption(VERBOSE);
        if (level.hasMatchedOption(RUN_RECORD)) {
          runRecord = Optional.of(new RunRecordTarget(level.matchedOptionValue(RUN_RECORD, "")));
        }
      }
      return new Invocation(names(leaf), List.of(arguments), verbose, runRecord);
    }

    /** After a parse error: the launcher's own options as far as the raw arguments tell. */
    static Invocation unparsed(CommandSpec failed, String[] arguments) {
      boolean verbose = false;
      Optional<RunRecordTarget> runRecord = Optional.empty();
      for (int index = 0; index < arguments.length; index++) {
        String argument = arguments[index];
        verbose |= argument.equals(VERBOSE);
        if (argument.equals(RUN_RECORD) && index + 1 < arguments.length) {
          runRecord = Optional.of(new RunRecordTarget(arguments[index + 1]));
        } else if (argument.startsWith(RUN_RECORD + "=")) {
          runRecord = Optional.of(new RunRecordTarget(argument.substring(RUN_RECORD.length() + 1)));
        }
      }
      return new Invocation(names(failed), List.of(arguments), verbose, runRecord);
    }

    /** The command's path below {@code lake}: [cdc, resync] for {@code lake cdc resync}. */
    private static List<String> names(CommandSpec spec) {
      List<String> names = new ArrayList<>();
      for (CommandSpec level = spec; level != null; level = level.parent()) {
        names.add(0, level.name());
      }
      if (!names.isEmpty() && names.get(0).equals("lake")) {
        names.remove(0);
      }
      return names;
    }

    String displayName() {
      return names.isEmpty() ? "lake" : "lake " + String.join(" ", names);
    }

    String jobName() {
      return names.isEmpty() ? "lake" : String.join("-", names);
    }
  }
}
