package dev.fencelock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The Java API: blocking methods, CompletableFuture variants, try-with-resources. */
class JavaApiTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void threadsOfTwoClientsCountExactlyOnNats() throws Exception {
    ConnectOptions options = new ConnectOptions().namespace(SupportKt.freshNamespace());
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try (Client a = Fencelock.connectBlocking(Servers.INSTANCE.getNatsUrl(), options);
        Client b = Fencelock.connectAsync(Servers.INSTANCE.getNatsUrl(), options).get()) {
      List<CompletableFuture<Void>> workers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        Client c = i % 2 == 0 ? a : b;
        workers.add(CompletableFuture.runAsync(() -> {
          for (int n = 0; n < 10; n++) {
            c.withLockBlocking("counter", Duration.ofSeconds(30), null,
                s -> bytes(Integer.toString(s == null ? 1 : Integer.parseInt(text(s)) + 1)));
          }
        }, pool));
      }
      CompletableFuture.allOf(workers.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
      assertEquals("60", text(a.getBlocking("counter").getState()));
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void blockingAndFutureCallsOnMemory() throws Exception {
    ConnectOptions options = new ConnectOptions().namespace(SupportKt.freshNamespace());
    try (Client c = Fencelock.connectBlocking("memory://", options)) {
      long first;
      try (LockGuard g = c.acquireBlocking("job", Duration.ofSeconds(1))) {
        first = g.getToken();
        g.putBlocking(bytes("half"));
        assertNull(c.tryAcquireBlocking("job"));
        FencelockException.Timeout e = assertThrows(FencelockException.Timeout.class,
            () -> c.acquireBlocking("job", Duration.ofMillis(100)));
        assertEquals("job", e.getKey());
      }
      LockGuard g2 = c.acquireAsync("job", Duration.ofSeconds(1)).get(5, TimeUnit.SECONDS);
      assertTrue(g2.getToken() > first);
      assertEquals("half", text(g2.getInitialState()));
      CompletableFuture<Boolean> lost = g2.lostAsync();
      assertTrue(g2.releaseAsync(bytes("done")).get(5, TimeUnit.SECONDS));
      assertFalse(lost.get(5, TimeUnit.SECONDS));
      assertEquals("done", text(c.waitBlocking("job", Duration.ofSeconds(1))));
      assertTrue(c.doIfFreeBlocking("job", s -> assertEquals("done", text(s))));
      try (Leadership l = c.campaignBlocking("election", "java", Duration.ofSeconds(1))) {
        assertEquals("java", c.leaderBlocking("election").getLabel());
        assertEquals(l.getTerm(), c.leaderBlocking("election").getToken());
      }
      assertNull(c.leaderBlocking("election"));
      Stats stats = c.getStats();
      assertEquals(4, stats.getAcquisitions()); // acquireBlocking, acquireAsync, doIfFree, campaign
      assertEquals(1, stats.getTryMisses());
      assertEquals(1, stats.getTimeouts());
      assertEquals(stats.getAcquisitions(), stats.getWait().getCount());
      assertFalse(Fencelock.version().isEmpty());
    }
  }
}
