package dist.comm;

import dist.protocol.Message;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.*;

/** Every request waiting for a reply ends: with its reply, past its deadline, or when the connection does. */
class PendingRequestsTest {

    @Test
    void aReplyCompletesItsRequestAndAStrayReplyIsDropped() throws Exception {
        PendingRequests p = new PendingRequests("10.0.0.1:9000");
        CompletableFuture<Message> f = new CompletableFuture<>();
        long id = p.open(f, Duration.ofSeconds(30), "Ping");
        p.complete(id + 1000, new Message.Ping(1)); // none waits for it
        assertFalse(f.isDone());
        p.complete(id, new Message.Ping(7));
        assertEquals(new Message.Ping(7), f.get(1, TimeUnit.SECONDS));
    }

    @Test
    void aRequestPastItsDeadlineFailsNamingThePeerAndTheRequest() {
        PendingRequests p = new PendingRequests("10.0.0.1:9000");
        CompletableFuture<Message> late = new CompletableFuture<>();
        CompletableFuture<Message> patient = new CompletableFuture<>();
        p.open(patient, Duration.ofSeconds(60), "GetData");
        p.open(late, Duration.ofMillis(50), "WhoHasRequest");
        ExecutionException e = assertThrows(ExecutionException.class, () -> late.get(10, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("10.0.0.1:9000")
                && e.getCause().getMessage().contains("WhoHasRequest"), e.getCause().getMessage());
        assertFalse(patient.isDone(), "a request with time left keeps waiting");
    }

    @Test
    void theEndOfTheConnectionFailsEveryWaitingRequest() {
        PendingRequests p = new PendingRequests("10.0.0.1:9000");
        CompletableFuture<Message> a = new CompletableFuture<>();
        CompletableFuture<Message> b = new CompletableFuture<>();
        p.open(a, Duration.ofSeconds(60), "Ping");
        long dropped = p.open(b, Duration.ofSeconds(60), "Ping");
        p.abandon(dropped); // never written: its caller fails it itself
        p.failAll(new java.io.IOException("reset by peer"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> a.get(1, TimeUnit.SECONDS));
        assertInstanceOf(ConnectionClosedException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("reset by peer"), e.getCause().getMessage());
        assertFalse(b.isDone());
    }
}
