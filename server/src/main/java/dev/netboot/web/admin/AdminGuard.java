package dev.netboot.web.admin;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Who may use the admin pages and which form posts are genuine. Login is HTTP Basic (no session to
 * steal, works without JavaScript); the comparison takes the same time whatever the guess. A form
 * carries a token only pages of this server can know (an HMAC of the password under a secret made at
 * start), so a page elsewhere on the lab network cannot make a logged-in browser post to the admin.
 */
public final class AdminGuard {

    private final byte[] user;
    private final byte[] password;
    private final String csrfToken;

    public AdminGuard(AdminPassword password) {
        this(password, randomSecret());
    }

    AdminGuard(AdminPassword password, byte[] secret) {
        this.user = AdminPassword.USER.getBytes(StandardCharsets.UTF_8);
        this.password = password.password().getBytes(StandardCharsets.UTF_8);
        this.csrfToken = hmac(secret, "csrf|" + AdminPassword.USER + "|" + password.password());
    }

    /** Whether the Basic credentials are the admin's; null (no Authorization header) is not. */
    public boolean allows(String user, String password) {
        if (user == null || password == null) return false;
        // Both compared, always: no early exit that tells a wrong user from a wrong password by timing.
        boolean userOk = MessageDigest.isEqual(digest(this.user), digest(user.getBytes(StandardCharsets.UTF_8)));
        boolean passwordOk = MessageDigest.isEqual(digest(this.password), digest(password.getBytes(StandardCharsets.UTF_8)));
        return userOk & passwordOk;
    }

    /** The hidden field every admin form carries. */
    public String csrfToken() { return csrfToken; }

    public boolean validToken(String token) {
        return token != null && MessageDigest.isEqual(csrfToken.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    /** Equal lengths for isEqual, so the length of the guess does not show either. */
    private static byte[] digest(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hmac(byte[] secret, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] randomSecret() {
        byte[] s = new byte[32];
        new SecureRandom().nextBytes(s);
        return s;
    }
}
