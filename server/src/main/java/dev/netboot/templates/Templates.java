package dev.netboot.templates;

import freemarker.cache.ClassTemplateLoader;
import freemarker.core.HTMLOutputFormat;
import freemarker.core.TemplateClassResolver;
import freemarker.cache.MultiTemplateLoader;
import freemarker.cache.TemplateLoader;
import freemarker.template.Configuration;
import freemarker.template.Template;
import freemarker.template.TemplateExceptionHandler;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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
        this(operatorDir, packaged, java.time.Duration.ofSeconds(2));
    }

    /** @param updateDelay how long a template is used before its file is checked for changes */
    public Templates(Path operatorDir, String packaged, java.time.Duration updateDelay) {
        this(operatorDir, packaged, updateDelay, false);
    }

    /**
     * Templates of HTML pages (the web admin): {@code ${expr}} interpolation, and every value is
     * HTML-escaped unless a template says otherwise, so text from the network (a DHCP hostname) never
     * becomes markup.
     */
    public static Templates html(Path operatorDir, String packaged) {
        return new Templates(operatorDir, packaged, java.time.Duration.ofSeconds(2), true);
    }

    private Templates(Path operatorDir, String packaged, java.time.Duration updateDelay, boolean html) {
        this.operatorDir = operatorDir;
        freemarker = new Configuration(Configuration.VERSION_2_3_34);
        if (html) {
            freemarker.setOutputFormat(HTMLOutputFormat.INSTANCE);
            freemarker.setAutoEscapingPolicy(Configuration.ENABLE_IF_SUPPORTED_AUTO_ESCAPING_POLICY);
        } else {
            freemarker.setInterpolationSyntax(Configuration.SQUARE_BRACKET_INTERPOLATION_SYNTAX);
        }
        freemarker.setDefaultEncoding("UTF-8");
        // Templates run inside a root process and are edited by whoever can write the template
        // folders: they may format the model, never instantiate classes (?new with Execute ran
        // commands) or reach the Java API behind a value (?api).
        freemarker.setNewBuiltinClassResolver(TemplateClassResolver.ALLOWS_NOTHING_RESOLVER);
        freemarker.setAPIBuiltinEnabled(false);
        freemarker.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
        freemarker.setLogTemplateExceptions(false);
        freemarker.setWrapUncheckedExceptions(true);
        freemarker.setFallbackOnNullLoopVariable(false);
        freemarker.setTemplateUpdateDelayMilliseconds(updateDelay.toMillis());
        MultiTemplateLoader loader = new MultiTemplateLoader(new TemplateLoader[] {
                new OperatorDirLoader(operatorDir), new ClassTemplateLoader(Templates.class, packaged)});
        loader.setSticky(false); // else a name once found in the jar never looks at the folder again
        freemarker.setTemplateLoader(loader);
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

    /**
     * The operator's folder, looked at on every check rather than once (FreeMarker's FileTemplateLoader
     * wants the folder to exist when the server starts): a folder created later, or a template copied
     * into it while the server runs, is picked up.
     */
    private record OperatorDirLoader(Path dir) implements TemplateLoader {
        @Override
        public Object findTemplateSource(String name) {
            Path file = dir.resolve(name).normalize();
            return file.startsWith(dir.normalize()) && Files.isRegularFile(file) ? file : null;
        }

        @Override
        public long getLastModified(Object source) {
            try {
                return Files.getLastModifiedTime((Path) source).toMillis();
            } catch (IOException e) {
                return -1;
            }
        }

        @Override
        public java.io.Reader getReader(Object source, String encoding) throws IOException {
            return Files.newBufferedReader((Path) source, java.nio.charset.Charset.forName(encoding));
        }

        @Override
        public void closeTemplateSource(Object source) {}
    }

    private String where(String name) {
        return Files.isRegularFile(operatorDir.resolve(name)) ? operatorDir.resolve(name).toString() : "packaged default";
    }
}
