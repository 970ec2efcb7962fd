package io.lambdalake.ingestion.collector.internal;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.config.KafkaConfig;
import io.lambdalake.common.config.TopicsConfig;
import io.lambdalake.common.kafka.KafkaClientProperties;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether Kafka answers, checked every readiness interval with an admin request. While it does not,
 * {@code /readyz} says so and event requests get 503 at once instead of waiting for the producer's
 * delivery timeout. Once Kafka first answers, the collector's topics are created if missing.
 */
public final class KafkaReadiness implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaReadiness.class);

  private final Admin admin;
  private final Duration interval;
  private final TopicsConfig topicsConfig;
  private final Collection<String> topics;
  private final boolean createTopics;
  private final ScheduledExecutorService scheduler;
  private volatile boolean reachable;
  private volatile String problem = "not checked yet";
  private boolean topicsReady;

  /**
   * @param topics the topics to create when missing, if {@code createTopics}
   */
  public KafkaReadiness(
      KafkaConfig kafka,
      TopicsConfig topicsConfig,
      Collection<String> topics,
      Duration interval,
      boolean createTopics) {
    this.admin = Admin.create(KafkaClientProperties.admin(kafka, "lake-collector-readiness"));
    this.interval = requireNonNull(interval, "interval is null");
    this.topicsConfig = requireNonNull(topicsConfig, "topicsConfig is null");
    this.topics = List.copyOf(topics);
    this.createTopics = createTopics;
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "collector-kafka-readiness");
              thread.setDaemon(true);
              return thread;
            });
  }

  /** Checks once now, then every interval. */
  public void start() {
    check();
    scheduler.scheduleWithFixedDelay(
        this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean isReachable() {
    return reachable;
  }

  /** Why Kafka is not reachable, when it is not. */
  public String problem() {
    return problem;
  }

  /** Kafka failed a record: treat it as unreachable until the next check proves otherwise. */
  public void markUnreachable() {
    if (reachable) {
      reachable = false;
      problem = "Kafka failed a record";
      scheduler.execute(this::check);
    }
  }

  private synchronized void check() {
    long timeoutMillis = Math.max(500, interval.toMillis());
    try {
      admin
          .describeCluster(new DescribeClusterOptions().timeoutMs((int) timeoutMillis))
          .clusterId()
          .get(timeoutMillis, TimeUnit.MILLISECONDS);
      if (createTopics && !topicsReady) {
        createMissingTopics(timeoutMillis);
      }
      if (!reachable) {
        LOG.info("Kafka is reachable");
      }
      reachable = true;
      problem = "";
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      String cause = e instanceof ExecutionException ? String.valueOf(e.getCause()) : e.toString();
      if (reachable || problem.equals("not checked yet")) {
        LOG.warn("Kafka is not reachable; events get 503 until it is: {}", cause);
      }
      reachable = false;
      problem = cause;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void createMissingTopics(long timeoutMillis)
      throws ExecutionException, InterruptedException, TimeoutException {
    Set<String> existing = admin.listTopics().names().get(timeoutMillis, TimeUnit.MILLISECONDS);
    List<NewTopic> missing =
        topics.stream()
            .filter(topic -> !existing.contains(topic))
            .map(
                topic ->
                    new NewTopic(
                        topic, topicsConfig.partitions(), (short) topicsConfig.replicationFactor()))
            .toList();
    if (!missing.isEmpty()) {
      try {
        admin.createTopics(missing).all().get(timeoutMillis * 10, TimeUnit.MILLISECONDS);
        LOG.info("Created topics {}", missing.stream().map(NewTopic::name).toList());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
    }
    topicsReady = true;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    admin.close(Duration.ofSeconds(5));
  }
}
