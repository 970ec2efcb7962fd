package io.lambdalake.servers.metastore;

import java.net.InetSocketAddress;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hive.metastore.HiveMetaStore;
import org.apache.hadoop.hive.metastore.IHMSHandler;
import org.apache.hadoop.hive.metastore.RetryingHMSHandler;
import org.apache.hadoop.hive.metastore.TSetIpAddressProcessor;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf;
import org.apache.hadoop.hive.metastore.conf.MetastoreConf.ConfVars;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.server.TServer;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TTransportFactory;

/**
 * The Hive Metastore 3.1's Thrift service on one address only. The metastore's own main binds its
 * port on every interface (3.1 has no bind-host setting); the local stack serves on 127.0.0.1. This
 * starts the same handler (the database-backed HMSHandler behind its retrying proxy) with the same
 * plain binary protocol the metastore serves without SASL, on {@code -Dlake.metastore.bind-host}
 * (default 127.0.0.1) and {@code metastore.thrift.port}. It leaves out what the local stack does
 * not use: Kerberos/SASL, SSL, and the compactor and housekeeping threads.
 */
public final class LoopbackMetastore {
  private LoopbackMetastore() {}

  public static void main(String[] arguments) throws Exception {
    Configuration conf = MetastoreConf.newMetastoreConf();
    String host = System.getProperty("lake.metastore.bind-host", "127.0.0.1");
    int port = MetastoreConf.getIntVar(conf, ConfVars.SERVER_PORT);
    IHMSHandler handler =
        RetryingHMSHandler.getProxy(
            conf, new HiveMetaStore.HMSHandler("new db based metaserver", conf, false), false);
    TBinaryProtocol.Factory protocol =
        new TBinaryProtocol.Factory(
            true,
            true,
            MetastoreConf.getLongVar(conf, ConfVars.SERVER_MAX_MESSAGE_SIZE),
            -1);
    TThreadPoolServer.Args serverArguments =
        new TThreadPoolServer.Args(new TServerSocket(new InetSocketAddress(host, port)))
            .processor(new TSetIpAddressProcessor<>(handler))
            .transportFactory(new TTransportFactory())
            .protocolFactory(protocol)
            .inputProtocolFactory(protocol)
            .minWorkerThreads(MetastoreConf.getIntVar(conf, ConfVars.SERVER_MIN_THREADS))
            .maxWorkerThreads(MetastoreConf.getIntVar(conf, ConfVars.SERVER_MAX_THREADS));
    TServer server = new TThreadPoolServer(serverArguments);
    System.out.println("The metastore serves Thrift on " + host + ":" + port);
    server.serve();
  }
}
