package dev.netboot.templates;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Templates run inside the root process: they may format values, never instantiate classes or reach Java APIs. */
class TemplateSandboxTest {

    @TempDir Path dir;

    Templates templates() {
        return new Templates(dir, "/pxe-menus", Duration.ZERO);
    }

    @Test
    void newBuiltInCannotRunACommand() throws Exception {
        Path proof = dir.resolve("ran");
        Files.writeString(dir.resolve("evil.ftl"),
                "<#assign ex = \"freemarker.template.utility.Execute\"?new()>[=ex(\"touch " + proof + "\")]");

        assertThatThrownBy(() -> templates().render("evil.ftl", Map.of()))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("evil.ftl")
                .hasMessageContaining("freemarker.template.utility.Execute");
        assertThat(proof).doesNotExist();
    }

    @Test
    void newBuiltInIsRefusedInHtmlTemplatesToo() throws Exception {
        Files.writeString(dir.resolve("page.ftlh"),
                "<#assign ex = \"freemarker.template.utility.ObjectConstructor\"?new()>${ex(\"java.io.File\", \"/\")}");

        assertThatThrownBy(() -> Templates.html(dir, "/webadmin").render("page.ftlh", Map.of()))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("ObjectConstructor");
    }

    @Test
    void apiBuiltInIsRefused() throws Exception {
        Files.writeString(dir.resolve("api.ftl"), "[=values?api.getClass().getName()]");

        assertThatThrownBy(() -> templates().render("api.ftl", Map.of("values", Map.of("a", "b"))))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("api.ftl")
                .hasMessageContaining("?api");
    }

    @Test
    void includeCannotLeaveTheTemplateFolders() throws Exception {
        Path outside = dir.resolveSibling(dir.getFileName() + "-secret");
        Files.createDirectories(outside);
        Files.writeString(outside.resolve("secret.txt"), "root-only");
        Files.writeString(dir.resolve("inc.ftl"), "<#include \"../" + outside.getFileName() + "/secret.txt\" parse=false>");

        assertThatThrownBy(() -> templates().render("inc.ftl", Map.of()))
                .isInstanceOf(TemplateException.class)
                .hasMessageContaining("inc.ftl");
    }

    @Test
    void ordinaryTemplatesStillRender() throws Exception {
        Files.writeString(dir.resolve("ok.ftl"), "<#list items as i>[=i?upper_case] </#list>");
        assertThat(templates().render("ok.ftl", Map.of("items", java.util.List.of("a", "b")))).isEqualTo("A B ");
    }
}
