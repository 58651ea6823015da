package dev.netboot.boot.menus;

import freemarker.cache.ClassTemplateLoader;
import freemarker.cache.FileTemplateLoader;
import freemarker.cache.MultiTemplateLoader;
import freemarker.cache.TemplateLoader;
import freemarker.template.Configuration;
import freemarker.template.Template;
import freemarker.template.TemplateExceptionHandler;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * FreeMarker templates read from an operator's folder first, then from a packaged folder in the
 * jar: an operator overrides one template by dropping a file of the same name in the folder, and
 * an edit takes effect on the next request (checked every two seconds), without a rebuild.
 *
 * <p>Interpolation is {@code [=expr]}, not {@code ${expr}}: the rendered files are GRUB scripts,
 * iPXE scripts and shell scripts, which all use {@code ${var}} themselves. Directives stay
 * {@code <#if>}. A missing value is an error, never an empty string in a kernel command line.
 */
public final class Templates {

    private final Configuration freemarker;
    private final Path operatorDir;

    /**
     * @param operatorDir the operator's folder (need not exist)
     * @param packaged    resource folder in the jar with every default, e.g. "/pxe-menus"
     */
    public Templates(Path operatorDir, String packaged) {
        this.operatorDir = operatorDir;
        freemarker = new Configuration(Configuration.VERSION_2_3_34);
        freemarker.setInterpolationSyntax(Configuration.SQUARE_BRACKET_INTERPOLATION_SYNTAX);
        freemarker.setDefaultEncoding("UTF-8");
        freemarker.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
        freemarker.setLogTemplateExceptions(false);
        freemarker.setWrapUncheckedExceptions(true);
        freemarker.setFallbackOnNullLoopVariable(false);
        freemarker.setTemplateUpdateDelayMilliseconds(2000);
        List<TemplateLoader> loaders = new ArrayList<>();
        if (Files.isDirectory(operatorDir)) {
            try {
                loaders.add(new FileTemplateLoader(operatorDir.toFile()));
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read templates in " + operatorDir + ": " + e.getMessage(), e);
            }
        }
        loaders.add(new ClassTemplateLoader(Templates.class, packaged));
        freemarker.setTemplateLoader(new MultiTemplateLoader(loaders.toArray(TemplateLoader[]::new)));
    }

    public Path operatorDir() { return operatorDir; }

    /** Renders the whole template into memory first, so a failure half-way never reaches a client. */
    public String render(String name, Map<String, ?> model) throws TemplateException {
        try {
            Template template = freemarker.getTemplate(name);
            StringWriter out = new StringWriter();
            template.process(model, out);
            return out.toString();
        } catch (freemarker.template.TemplateException e) {
            throw new TemplateException("template " + name + " (" + where(name) + "): " + oneLine(e.getMessageWithoutStackTop()), e);
        } catch (IOException e) {
            // ParseException is an IOException: it says the line and column.
            throw new TemplateException("template " + name + " (" + where(name) + "): " + oneLine(e.getMessage()), e);
        }
    }

    /** FreeMarker's messages span lines and end in tips for template authors: one log line is enough. */
    private static String oneLine(String message) {
        int tip = message.indexOf("\n----");
        return (tip >= 0 ? message.substring(0, tip) : message).replaceAll("\\s*\n\\s*", " ").trim();
    }

    private String where(String name) {
        return Files.isRegularFile(operatorDir.resolve(name)) ? operatorDir.resolve(name).toString() : "packaged default";
    }
}
