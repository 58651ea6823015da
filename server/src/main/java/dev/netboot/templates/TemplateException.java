package dev.netboot.templates;

/** A template that cannot be read, parsed or rendered; the message names the template and the fault. */
public final class TemplateException extends Exception {
    public TemplateException(String message, Throwable cause) { super(message, cause); }
}
