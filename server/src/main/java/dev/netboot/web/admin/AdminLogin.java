package dev.netboot.web.admin;

import io.javalin.http.Context;
import io.javalin.security.BasicAuthCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;

/**
 * The admin's login, one for the pages and the JSON API: HTTP Basic checked by {@link AdminGuard}, wrong
 * guesses throttled per address, account and browser ({@link LoginThrottle}), the first wrong login and a
 * lock-out logged. Answering (a page or JSON) is the caller's.
 */
public final class AdminLogin {

    public enum Result { NONE, WRONG, OK, THROTTLED }

    static final String DEVICE_COOKIE = "netboot_admin_device";
    static final String CHALLENGE = "Basic realm=\"netboot admin\", charset=\"UTF-8\"";

    private static final Logger log = LoggerFactory.getLogger(AdminRoutes.class);

    private final AdminGuard guard;
    private final LoginThrottle throttle = new LoginThrottle(10, Duration.ofMinutes(1), Clock.systemUTC());

    public AdminLogin(AdminGuard guard) {
        this.guard = guard;
    }

    /** Checks the request's credentials; a good login also marks its browser (a cookie) as one lock-outs spare. */
    public Result check(Context ctx) {
        String ip = ctx.ip();
        String account = account(ctx);
        String device = ctx.cookie(DEVICE_COOKIE);
        if (throttle.blocked(ip, account, device)) return Result.THROTTLED;
        Result login = login(ctx);
        if (login == Result.WRONG && throttle.failed(ip, account, device) == 1) log.warn("web admin: wrong login from {}", ip);
        if (login == Result.WRONG && throttle.blocked(ip, account, device)) {
            log.warn("web admin: too many wrong logins from {} (or for the account from everywhere): refused for a minute", ip);
        }
        if (login == Result.OK) {
            // The browser that logged in is known from now on: lock-outs others cause do not apply to it.
            String token = throttle.succeeded(ip, account, device);
            if (!token.equals(device)) {
                ctx.header("Set-Cookie", DEVICE_COOKIE + "=" + token + "; Path=/; Max-Age=2592000; HttpOnly; SameSite=Strict"
                        + (ctx.scheme().equals("https") ? "; Secure" : ""));
            }
        }
        return login;
    }

    /** The account a login names, for the throttle: the admin, or one bucket for every made-up name (a bounded count). */
    private static String account(Context ctx) {
        try {
            BasicAuthCredentials c = ctx.header("Authorization") == null ? null : ctx.basicAuthCredentials();
            return c != null && AdminPassword.USER.equals(c.getUsername()) ? AdminPassword.USER : "(other)";
        } catch (RuntimeException malformed) {
            return "(other)";
        }
    }

    private Result login(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null) return Result.NONE;
        if (!header.regionMatches(true, 0, "Basic ", 0, 6)) return Result.WRONG;
        try {
            BasicAuthCredentials c = ctx.basicAuthCredentials();
            return c != null && guard.allows(c.getUsername(), c.getPassword()) ? Result.OK : Result.WRONG;
        } catch (RuntimeException malformed) {
            return Result.WRONG;
        }
    }
}
