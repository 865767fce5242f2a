package sentinel.peers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Entry point of the bench's Java peers. Arguments are key=value pairs:
 *   mode=kstreams|raw brokers=host:port input=topic output=topic events=N passes=P
 *   threads=T guarantee=at_least_once|exactly_once_v2 stateDir=dir commitMs=1000
 * Each pass prints one line "PASS <n> events_per_s=<x>" and the run ends with
 * "PEAK_RSS_KB <kb>", read from /proc/self/status as the Node runners do.
 */
public final class PeerMain {
  public static void main(String[] args) throws Exception {
    Map<String, String> options = new java.util.HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq < 0) throw new IllegalArgumentException("expected key=value, got " + arg);
      options.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    String mode = required(options, "mode");
    int passes = Integer.parseInt(options.getOrDefault("passes", "1"));
    for (int pass = 1; pass <= passes; pass++) {
      double rate;
      if (mode.equals("kstreams")) rate = KafkaStreamsPeer.run(options, pass);
      else if (mode.equals("raw")) rate = RawConsumerPeer.run(options, pass);
      else throw new IllegalArgumentException("mode must be kstreams or raw, got " + mode);
      System.out.printf("PASS %d events_per_s=%.0f%n", pass, rate);
    }
    System.out.println("PEAK_RSS_KB " + peakRssKb());
    System.exit(0);
  }

  static String required(Map<String, String> options, String key) {
    String value = options.get(key);
    if (value == null) throw new IllegalArgumentException("missing " + key + "=...");
    return value;
  }

  private static long peakRssKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    return -1;
  }
}
