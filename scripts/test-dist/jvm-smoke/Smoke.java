// Smoke scenario of the released jar against a real nats-server, from plain Java: connect,
// acquire (fencing token), wait for a held key from a second client, release with state,
// withLock updating it, and the version. Usage: java Smoke NATS_URL EXPECTED_VERSION
import dev.fencelock.Client;
import dev.fencelock.ConnectOptions;
import dev.fencelock.Fencelock;
import dev.fencelock.LockGuard;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

public class Smoke {
  static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError("jvm smoke: " + what);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String expected = args[1];
    // Fencelock.version() comes with the JVM binding's version API; older jars lack it.
    String version = "(no Fencelock.version() in this jar)";
    Method m = null;
    try {
      m = Fencelock.class.getMethod("version");
    } catch (NoSuchMethodException e) {
      // reported below
    }
    if (m != null) {
      version = (String) m.invoke(null);
      check(expected.equals(version), "version() is " + version + ", expected " + expected);
    }
    ConnectOptions options = new ConnectOptions().namespace("dist-jvm-" + UUID.randomUUID().toString().substring(0, 8));
    long token;
    try (Client a = Fencelock.connectBlocking(url, options); Client b = Fencelock.connectBlocking(url, options)) {
      LockGuard g = a.acquireBlocking("job", Duration.ofSeconds(5));
      check(g.getToken() > 0, "token " + g.getToken());
      CompletableFuture<byte[]> waiting = CompletableFuture.supplyAsync(() -> b.waitBlocking("job", Duration.ofSeconds(10)));
      check(g.releaseBlocking(bytes("1")), "release refused");
      check("1".equals(text(waiting.get(15, TimeUnit.SECONDS))), "wait did not return the released state");
      byte[] after = b.withLockBlocking("job", Duration.ofSeconds(5), null, s -> bytes(Integer.toString(Integer.parseInt(text(s)) + 1)));
      check("2".equals(text(after)), "withLock returned " + text(after));
      try (LockGuard g2 = a.acquireBlocking("job", Duration.ofSeconds(5))) {
        check(g2.getToken() > g.getToken(), "tokens must increase");
        check("2".equals(text(g2.getInitialState())), "state after withLock: " + text(g2.getInitialState()));
        token = g2.getToken();
      }
    }
    System.out.println("jvm smoke: fencelock " + version + " ok on " + url + " (token " + token + ")");
  }
}
