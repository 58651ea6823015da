package dev.netboot.testlib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A real headless Chromium (Debian package {@code chromium}) driven over the DevTools protocol with the
 * JDK's WebSocket: open pages, navigate, click, fill forms, read the DOM and each navigation's HTTP status.
 * No Selenium, no driver binary: one browser process, one WebSocket, flat sessions per page.
 */
public final class Chromium implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final Map<String, BlockingQueue<JsonNode>> events = new ConcurrentHashMap<>();
    private final java.util.Set<String> cancellingLogins = ConcurrentHashMap.newKeySet();

    private Chromium(Process process, WebSocket.Builder builder, URI browser) throws Exception {
        this.process = process;
        this.socket = builder.buildAsync(browser, new Listener()).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    /** Starts the browser with a fresh profile in {@code profile}. */
    public static Chromium start(Path profile) throws Exception {
        Process p = new ProcessBuilder("chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0", "--remote-allow-origins=*",
                "--user-data-dir=" + profile, "about:blank").redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        // Chromium says where its DevTools listen on stderr ("DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID").
        CompletableFuture<URI> url = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("chromium-stderr").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    int at = line.indexOf("ws://");
                    if (line.startsWith("DevTools listening on") && at >= 0) url.complete(URI.create(line.substring(at).trim()));
                }
                url.completeExceptionally(new IOException("chromium exited before it listened: exit " + p.waitFor()));
            } catch (IOException | InterruptedException e) {
                url.completeExceptionally(e);
            }
        });
        try {
            URI browser = url.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            return new Chromium(p, HttpClient.newHttpClient().newWebSocketBuilder(), browser);
        } catch (Exception e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** A new tab; {@code headers} go with every request it makes (e.g. Authorization). */
    public Page newPage(Map<String, String> headers) throws Exception {
        String target = call(null, "Target.createTarget", Map.of("url", "about:blank")).get("targetId").asText();
        String session = call(null, "Target.attachToTarget", Map.of("targetId", target, "flatten", true)).get("sessionId").asText();
        Page page = new Page(session);
        call(session, "Page.enable", Map.of());
        call(session, "Network.enable", Map.of());
        if (!headers.isEmpty()) call(session, "Network.setExtraHTTPHeaders", Map.of("headers", headers));
        return page;
    }

    /** One tab. */
    public final class Page {
        private final String session;

        private Page(String session) { this.session = session; }

        /**
         * From now on this tab answers every login dialog (HTTP 401 with WWW-Authenticate) with Cancel, as a
         * person without the password would, so the page shows the server's 401 body.
         */
        public void cancelLogins() throws Exception {
            cancellingLogins.add(session);
            call(session, "Fetch.enable", Map.of("handleAuthRequests", true, "patterns", List.of(Map.of("urlPattern", "*"))));
        }

        /** Loads the URL and waits for its load event; returns the HTTP status of the document. */
        public int navigate(String url) throws Exception {
            events(session).clear();
            call(session, "Page.navigate", Map.of("url", url));
            return awaitLoad();
        }

        /** Runs the script (which starts a navigation: a click on a submit button, form.submit()), waits for the new page. */
        public int navigateBy(String script) throws Exception {
            events(session).clear();
            evaluate(script);
            return awaitLoad();
        }

        public JsonNode evaluate(String expression) throws Exception {
            JsonNode r = call(session, "Runtime.evaluate", Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
            if (r.has("exceptionDetails")) throw new IllegalStateException("script failed: " + r.get("exceptionDetails"));
            return r.path("result").path("value");
        }

        /** A PNG of the whole page (for a person reviewing what the pages look like). */
        public void screenshot(Path png) throws Exception {
            JsonNode r = call(session, "Page.captureScreenshot", Map.of("format", "png", "captureBeyondViewport", true));
            java.nio.file.Files.createDirectories(png.getParent());
            java.nio.file.Files.write(png, java.util.Base64.getDecoder().decode(r.get("data").asText()));
        }

        public String text() throws Exception { return evaluate("document.body.innerText").asText(); }

        public String html() throws Exception { return evaluate("document.documentElement.outerHTML").asText(); }

        /** Sets an input's or select's value as a person typing or choosing would. */
        public void fill(String selector, String value) throws Exception {
            evaluate("(() => { const e = document.querySelector(" + quote(selector) + "); e.value = " + quote(value)
                    + "; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); })()");
        }

        /** Clicks the element and waits for the page it leads to; returns its HTTP status. */
        public int click(String selector) throws Exception {
            return navigateBy("document.querySelector(" + quote(selector) + ").click()");
        }

        /** Waits until the page's text satisfies the test (a page reloading itself by meta refresh, say). */
        public String awaitText(Predicate<String> test, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            String text = "";
            while (System.nanoTime() < deadline) {
                try {
                    text = text();
                    if (test.test(text)) return text;
                } catch (IllegalStateException | NullPointerException reloading) {
                    // between two documents
                }
                Thread.sleep(200);
            }
            throw new AssertionError("page text never matched within " + timeout + "; last text:\n" + text);
        }

        private int awaitLoad() throws Exception {
            int status = -1;
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            BlockingQueue<JsonNode> q = events(session);
            while (true) {
                JsonNode e = q.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (e == null) throw new IllegalStateException("no page load within " + TIMEOUT);
                String method = e.path("method").asText();
                if (method.equals("Network.responseReceived") && e.path("params").path("type").asText().equals("Document")) {
                    status = e.path("params").path("response").path("status").asInt();
                } else if (method.equals("Page.loadEventFired")) {
                    return status;
                }
            }
        }
    }

    private BlockingQueue<JsonNode> events(String session) {
        return events.computeIfAbsent(session, s -> new LinkedBlockingQueue<>());
    }

    private JsonNode call(String session, String method, Map<String, ?> params) throws Exception {
        int id = ids.incrementAndGet();
        ObjectNode message = JSON.createObjectNode().put("id", id).put("method", method);
        message.set("params", JSON.valueToTree(params));
        if (session != null) message.put("sessionId", session);
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        sendText(JSON.writeValueAsString(message));
        JsonNode r = reply.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (r.has("error")) throw new IllegalStateException(method + ": " + r.get("error"));
        return r.path("result");
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    JsonNode m = JSON.readTree(partial.toString());
                    if (m.has("id")) {
                        CompletableFuture<JsonNode> f = pending.remove(m.get("id").asInt());
                        if (f != null) f.complete(m);
                    } else if (m.has("sessionId")) {
                        String session = m.get("sessionId").asText();
                        if (cancellingLogins.contains(session)) answerFetch(session, m);
                        events(session).add(m);
                    }
                } catch (IOException e) {
                    // not JSON: nothing Chromium sends
                }
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }
    }

    /** Fetch interception (only for {@link Page#cancelLogins}): requests go on, login dialogs are cancelled. */
    private void answerFetch(String session, JsonNode event) throws IOException {
        String requestId = event.path("params").path("requestId").asText();
        switch (event.path("method").asText()) {
            case "Fetch.requestPaused" -> send(session, "Fetch.continueRequest", Map.of("requestId", requestId));
            case "Fetch.authRequired" -> send(session, "Fetch.continueWithAuth",
                    Map.of("requestId", requestId, "authChallengeResponse", Map.of("response", "CancelAuth")));
            default -> { }
        }
    }

    /** Sends without waiting for the answer (from the listener, which is what would deliver it). */
    private void send(String session, String method, Map<String, ?> params) throws IOException {
        ObjectNode message = JSON.createObjectNode().put("id", ids.incrementAndGet()).put("method", method);
        message.set("params", JSON.valueToTree(params));
        message.put("sessionId", session);
        sendText(JSON.writeValueAsString(message));
    }

    private final Object sending = new Object();

    /**
     * One message at a time: Java's WebSocket refuses a send while another is pending ("Send pending"), and
     * the listener answers Fetch events while a test thread calls (CI hit it). Waits only for the write, never
     * for an answer, so the listener can use it too.
     */
    private void sendText(String text) throws IOException {
        synchronized (sending) {
            try {
                socket.sendText(text, true).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while sending to Chromium", e);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IOException("cannot send to Chromium: " + e, e);
            }
        }
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "").get(2, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the browser goes anyway
        }
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
}
