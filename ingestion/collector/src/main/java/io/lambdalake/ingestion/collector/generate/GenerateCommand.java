package io.lambdalake.ingestion.collector.generate;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.lambdalake.common.config.Durations;
import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.lambdalake.common.kafka.KafkaClientProperties;
import io.lambdalake.common.launch.Endpoint;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Server;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lake generate events}: writes seeded sample traffic straight to the event topics, in the
 * collector's wire format and routing (page_view and purchase to their own topics, the rest to the
 * other topic). For benchmarks and demos; real traffic goes through the collector.
 */
@Command(
    name = "generate-events",
    mixinStandardHelpOptions = true,
    description = "Write seeded sample analytics events straight to the Kafka event topics.")
public final class GenerateCommand implements Job {
  @Spec CommandSpec spec;

  @Option(
      names = "--events",
      defaultValue = "10000",
      description = "How many events (default: ${DEFAULT-VALUE}).")
  int events;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--merchants",
      defaultValue = "LL-DEMO-1,LL-DEMO-2,LL-DEMO-3",
      split = ",",
      description = "Tracking IDs, largest first (default: ${DEFAULT-VALUE}).")
  List<String> merchants;

  @Option(
      names = "--span",
      defaultValue = "6h",
      description = "Event times fall within this span before --until (default: ${DEFAULT-VALUE}).")
  String span;

  @Option(names = "--until", description = "End of the event times (default: now).")
  Instant until;

  @Option(
      names = "--bot-share",
      defaultValue = "0.05",
      description = "Share of crawler sessions (default: ${DEFAULT-VALUE}).")
  double botShare;

  /** Where the events go. */
  public enum Target {
    KAFKA,
    COLLECTOR
  }

  @Option(
      names = "--to",
      defaultValue = "KAFKA",
      description =
          "KAFKA: straight to the topics (fast, for benchmarks); COLLECTOR: through the running"
              + " collector's HTTP API, one batch per visit (default: ${DEFAULT-VALUE}).")
  Target target;

  @Option(
      names = "--malformed",
      defaultValue = "0",
      description =
          "With --to COLLECTOR, also send this many bad requests, which the collector rejects and"
              + " quarantines.")
  int malformed;

  @Override
  public void validate(LakeConfig config) {
    if (events < 1) {
      throw new LakeException(
          ErrorCode.INVALID_ARGUMENT, "--events must be positive, but is " + events);
    }
    Durations.parse(span, "--span");
  }

  @Override
  public List<Endpoint> servers(LakeConfig config) {
    return target == Target.COLLECTOR
        ? List.of(
            new Endpoint(
                "The collector",
                List.of(new Endpoint.Address(config.collector().host(), config.collector().port())),
                "start it with lake collector"))
        : Server.endpoints(config, Server.KAFKA);
  }

  @Override
  public void run(JobContext context) throws Exception {
    LakeConfig config = context.config();
    Duration duration = Durations.parse(span, "--span");
    Instant end = until == null ? Instant.now().truncatedTo(ChronoUnit.SECONDS) : until;
    EventGenerator generator =
        new EventGenerator(seed, merchants, end.minus(duration), duration, botShare);
    PrintWriter out = spec.commandLine().getOut();
    if (target == Target.COLLECTOR) {
      CollectorClient.Result result =
          new CollectorClient(config.collector().host(), config.collector().port())
              .send(generator, events, malformed);
      out.printf(
          "Sent %,d events to the collector: %,d accepted, %,d rejected; %,d bad requests refused"
              + " (%.1f s)%n",
          result.sent(),
          result.accepted(),
          result.rejected(),
          result.badRequestsRefused(),
          result.seconds());
      result
          .firstRejection()
          .ifPresent(rejection -> out.println("First rejected answer: " + rejection));
      out.flush();
      context.count("events", result.sent());
      return;
    }
    long started = System.nanoTime();
    long sent = 0;
    var properties = KafkaClientProperties.producer(config.kafka(), "lake-generate");
    // Bulk loading: larger batches than the collector's latency-minded defaults.
    properties.put("linger.ms", "20");
    properties.put("batch.size", Integer.toString(256 * 1024));
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
      List<Future<RecordMetadata>> pending = new ArrayList<>();
      while (sent < events) {
        for (GeneratedEvent event : generator.session()) {
          if (sent == events) {
            break;
          }
          // The collector's routing rules from conf, so the topics are the ones it would use.
          String topic =
              config
                  .collector()
                  .routes()
                  .getOrDefault(event.eventName(), config.topics().eventsOther());
          pending.add(
              producer.send(
                  new ProducerRecord<>(
                      topic,
                      event.clientId().getBytes(UTF_8),
                      event.toJson(event.eventTime().plusMillis(300)).getBytes(UTF_8))));
          sent++;
          if (sent % 500_000 == 0) {
            out.printf("  %,d events sent%n", sent);
            out.flush();
          }
        }
        if (pending.size() >= 200_000) {
          awaitAll(pending);
        }
      }
      awaitAll(pending);
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    out.printf(
        "Sent %,d events to Kafka in %.1f s (%,.0f events/s)%n", sent, seconds, sent / seconds);
    context.count("events", sent);
  }

  private static void awaitAll(List<Future<RecordMetadata>> pending) throws Exception {
    for (Future<RecordMetadata> future : pending) {
      try {
        future.get(2, TimeUnit.MINUTES);
      } catch (ExecutionException e) {
        throw new LakeException(
            ErrorCode.SERVER_NOT_AVAILABLE,
            "Kafka did not accept an event: " + e.getCause().getMessage(),
            e);
      }
    }
    pending.clear();
  }
}
