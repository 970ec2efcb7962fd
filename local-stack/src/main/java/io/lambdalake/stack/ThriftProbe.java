package io.lambdalake.stack;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One call of the Hive Metastore's Thrift service in Thrift's binary protocol (strict, unframed, as
 * the metastore serves it without SASL), so that the stack can prove the metastore answers without
 * a Thrift library of its own: {@code get_all_databases()}, which takes no arguments and returns a
 * list of strings.
 */
final class ThriftProbe {
  private static final int VERSION_1 = 0x80010000;
  private static final int VERSION_MASK = 0xffff0000;
  private static final byte CALL = 1;
  private static final byte REPLY = 2;
  private static final byte EXCEPTION = 3;
  private static final byte STOP = 0;
  private static final byte BOOL = 2;
  private static final byte BYTE = 3;
  private static final byte DOUBLE = 4;
  private static final byte I16 = 6;
  private static final byte I32 = 8;
  private static final byte I64 = 10;
  private static final byte STRING = 11;
  private static final byte STRUCT = 12;
  private static final byte MAP = 13;
  private static final byte SET = 14;
  private static final byte LIST = 15;
  private static final int MAX_STRING_BYTES = 1 << 20;
  private static final String METHOD = "get_all_databases";

  private ThriftProbe() {}

  /** Sends {@code get_all_databases()} and returns the database names of the reply. */
  static List<String> getAllDatabases(DataOutputStream out, DataInputStream in) throws IOException {
    out.writeInt(VERSION_1 | CALL);
    writeString(out, METHOD);
    out.writeInt(1);
    out.writeByte(STOP);
    out.flush();

    int header = in.readInt();
    if ((header & VERSION_MASK) != VERSION_1) {
      throw new IOException("not a Thrift binary-protocol reply (header " + header + ")");
    }
    byte type = (byte) (header & 0xff);
    String method = readString(in);
    in.readInt();
    if (type == EXCEPTION) {
      throw new IOException("the metastore answered " + method + " with an exception");
    }
    if (type != REPLY || !METHOD.equals(method)) {
      throw new IOException("unexpected Thrift message " + type + " " + method);
    }
    List<String> databases = null;
    while (true) {
      byte fieldType = in.readByte();
      if (fieldType == STOP) {
        break;
      }
      short fieldId = in.readShort();
      if (fieldId == 0 && fieldType == LIST) {
        databases = readStringList(in);
      } else {
        // Field 1 is the MetaException the metastore declares.
        skip(in, fieldType);
        throw new IOException("the metastore answered get_all_databases with an error");
      }
    }
    if (databases == null) {
      throw new IOException("the metastore's reply to get_all_databases has no result");
    }
    return List.copyOf(databases);
  }

  private static List<String> readStringList(DataInputStream in) throws IOException {
    byte elementType = in.readByte();
    int size = in.readInt();
    if (elementType != STRING || size < 0) {
      throw new IOException("get_all_databases returned no list of strings");
    }
    List<String> values = new ArrayList<>(size);
    for (int index = 0; index < size; index++) {
      values.add(readString(in));
    }
    return values;
  }

  private static void writeString(DataOutputStream out, String value) throws IOException {
    byte[] bytes = value.getBytes(UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static String readString(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > MAX_STRING_BYTES) {
      throw new IOException("a Thrift string of " + length + " bytes");
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return new String(bytes, UTF_8);
  }

  private static void skip(DataInputStream in, byte type) throws IOException {
    switch (type) {
      case BOOL, BYTE -> in.skipBytes(1);
      case I16 -> in.skipBytes(2);
      case I32 -> in.skipBytes(4);
      case DOUBLE, I64 -> in.skipBytes(8);
      case STRING -> readString(in);
      case STRUCT -> {
        byte fieldType;
        while ((fieldType = in.readByte()) != STOP) {
          in.readShort();
          skip(in, fieldType);
        }
      }
      case MAP -> {
        byte keyType = in.readByte();
        byte valueType = in.readByte();
        int size = in.readInt();
        for (int index = 0; index < size; index++) {
          skip(in, keyType);
          skip(in, valueType);
        }
      }
      case SET, LIST -> {
        byte elementType = in.readByte();
        int size = in.readInt();
        for (int index = 0; index < size; index++) {
          skip(in, elementType);
        }
      }
      default -> throw new IOException("unknown Thrift type " + type);
    }
  }
}
