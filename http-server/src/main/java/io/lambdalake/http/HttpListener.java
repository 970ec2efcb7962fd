package io.lambdalake.http;

import static java.util.Objects.requireNonNull;

import io.lambdalake.common.error.ErrorCode;
import io.lambdalake.common.error.LakeException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A listening HTTP socket on Netty: one acceptor thread, a pool of I/O threads, and a pipeline that
 * the service builds for each connection. The collector and the metrics API both listen through it,
 * so socket options, the bind error and the shutdown order are written once.
 */
public final class HttpListener implements AutoCloseable {
  private final EventLoopGroup bossGroup;
  private final EventLoopGroup workerGroup;
  private final Channel channel;
  private final String host;

  private HttpListener(
      EventLoopGroup bossGroup, EventLoopGroup workerGroup, Channel channel, String host) {
    this.bossGroup = bossGroup;
    this.workerGroup = workerGroup;
    this.channel = channel;
    this.host = host;
  }

  /** Where a service listens, and what it is called in messages. */
  public record Endpoint(String service, String host, int port, int ioThreads, String portSetting) {
    public Endpoint {
      requireNonNull(service, "service is null");
      requireNonNull(host, "host is null");
      requireNonNull(portSetting, "portSetting is null");
      if (port < 0 || port > 65_535) {
        throw new LakeException(
            ErrorCode.INVALID_CONFIGURATION,
            "The " + service + " port must be 0..65535, but is " + port + " (" + portSetting + ")");
      }
      if (ioThreads < 0) {
        throw new LakeException(
            ErrorCode.INVALID_CONFIGURATION,
            "The "
                + service
                + " I/O threads must be 0 (one per core) or more, but are "
                + ioThreads);
      }
    }
  }

  /**
   * Binds the endpoint (port 0: any free port) and serves each accepted connection with the
   * pipeline {@code pipeline} builds. Fails with {@link ErrorCode#SERVER_FAILED_TO_START} when the
   * address cannot be bound, having released its threads.
   */
  public static HttpListener bind(Endpoint endpoint, Consumer<ChannelPipeline> pipeline) {
    requireNonNull(endpoint, "endpoint is null");
    requireNonNull(pipeline, "pipeline is null");
    EventLoopGroup bossGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup workerGroup =
        new MultiThreadIoEventLoopGroup(endpoint.ioThreads(), NioIoHandler.newFactory());
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(bossGroup, workerGroup)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel channel) {
                    pipeline.accept(channel.pipeline());
                  }
                });
    try {
      Channel channel =
          bootstrap.bind(endpoint.host(), endpoint.port()).syncUninterruptibly().channel();
      return new HttpListener(bossGroup, workerGroup, channel, endpoint.host());
    } catch (RuntimeException e) {
      shutDown(bossGroup, workerGroup);
      throw new LakeException(
          ErrorCode.SERVER_FAILED_TO_START,
          "The "
              + endpoint.service()
              + " cannot listen on "
              + endpoint.host()
              + ":"
              + endpoint.port()
              + ": "
              + e.getMessage()
              + " (is the port taken? set "
              + endpoint.portSetting()
              + ")",
          e);
    }
  }

  /** The port it listens on (the one the system chose when the endpoint asked for 0). */
  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** {@code http://host:port}, with an IPv6 host in brackets. */
  public URI address() {
    String shown = host.contains(":") ? "[" + host + "]" : host;
    return URI.create("http://" + shown + ":" + port());
  }

  /** Stops accepting connections; connections already open keep being served. */
  public void stopAccepting() {
    channel.close().syncUninterruptibly();
  }

  /** Stops accepting, then stops the I/O threads (open connections are closed). */
  @Override
  public void close() {
    stopAccepting();
    shutDown(bossGroup, workerGroup);
  }

  private static void shutDown(EventLoopGroup bossGroup, EventLoopGroup workerGroup) {
    workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
