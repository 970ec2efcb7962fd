package io.lambdalake.ingestion.collector;

import io.lambdalake.common.config.LakeConfig;
import io.lambdalake.common.launch.Job;
import io.lambdalake.common.launch.JobContext;
import io.lambdalake.common.launch.Launcher;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lake collector}: runs the event collector until it is stopped (Ctrl-C or SIGTERM), then
 * drains the requests in flight before it exits. It has no preflight: it starts while Kafka is down
 * and answers 503 until Kafka is back, so that a Kafka outage needs no restart of the edge. Its
 * {@code main} runs it with the collector's class path alone, which has no Spark (the {@code lake}
 * tarball's {@code lib/collector}).
 */
@Command(
    name = "collector",
    description = {
      "Run the event collector: websites and apps send analytics events over HTTP, the collector"
          + " writes them to Kafka, routed by event name (lake.collector in conf/).",
      "Endpoints: POST /v1/collect, POST /v1/batch, GET /v1/p.gif, GET /v1/t.js, /healthz,"
          + " /readyz, /metrics."
    })
public final class CollectorCommand implements Job {
  @Spec CommandSpec spec;

  public static void main(String[] arguments) {
    System.exit(Launcher.run(new CollectorCommand(), arguments));
  }

  @Option(names = "--host", description = "Bind this address instead of lake.collector.host.")
  String host;

  @Option(names = "--port", description = "Listen on this port instead of lake.collector.port.")
  Integer port;

  /** The host and port options override their configuration keys. */
  @Override
  public Map<String, String> configOverrides() {
    Map<String, String> overrides = new LinkedHashMap<>();
    if (host != null) {
      overrides.put("lake.collector.host", host);
    }
    if (port != null) {
      overrides.put("lake.collector.port", Integer.toString(port));
    }
    return overrides;
  }

  @Override
  public void run(JobContext context) throws InterruptedException {
    LakeConfig config = context.config();
    CollectorServer server = CollectorServer.start(config);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "collector-shutdown"));
    PrintWriter out = spec.commandLine().getOut();
    out.printf(
        "collector listening on %s (Kafka at %s %s); routes %s, %d tracking IDs%n",
        server.address(),
        config.kafka().bootstrapServers(),
        server.isReady() ? "reachable" : "not reachable yet: events get 503 until it is",
        config.collector().sortedRoutes(),
        config.collector().trackingIds().size());
    out.println("Stop it with Ctrl-C; it answers the requests in flight first.");
    out.flush();
    server.awaitTermination();
  }
}
