package dev.netboot.images;

import java.util.regex.Pattern;

/** Image names become folder names, URL path segments and LVM volume names: a safe, short subset. */
public final class ImageName {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private ImageName() {}

    public static String check(String name) {
        if (name == null || !NAME.matcher(name).matches() || name.contains("..")) {
            throw new IllegalArgumentException("image name '" + name + "' is not allowed: use letters, digits, '.', '_' and '-', "
                    + "starting with a letter or digit, at most 64 characters");
        }
        return name;
    }
}
