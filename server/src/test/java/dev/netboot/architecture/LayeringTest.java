package dev.netboot.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The layering of docs/ARCHITECTURE.md, as rules the build enforces (production classes only).
 * From the ground up: shared value types ({@code net}) and plumbing ({@code posix}, {@code metrics},
 * {@code transport}, {@code files}); the protocol packages with their sans-I/O cores; the state
 * ({@code inventory}); the domain ({@code images}, {@code disks}, {@code boot}); the faces
 * ({@code web}, {@code config}); and at the top the only two places that wire services from a
 * configuration ({@code app}, {@code cli}).
 */
class LayeringTest {

    private static final String[] PROTOCOLS = {"dev.netboot.dhcp..", "dev.netboot.tftp..", "dev.netboot.aoe..", "dev.netboot.ndp..",
            "dev.netboot.packet..", "dev.netboot.storage..", "dev.netboot.replication.."};
    private static final String[] ABOVE_PROTOCOLS = {"dev.netboot.boot..", "dev.netboot.inventory..", "dev.netboot.disks..",
            "dev.netboot.images..", "dev.netboot.loaders..", "dev.netboot.web..", "dev.netboot.app..", "dev.netboot.cli..", "dev.netboot.config..", "dev.netboot.demo.."};
    private static final String[] GROUND = {"dev.netboot.net..", "dev.netboot.posix..", "dev.netboot.metrics..", "dev.netboot.transport..",
            "dev.netboot.files.."};

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.netboot");
    }

    @Test
    void protocolPackagesNeverImportTheFloorsAboveThem() {
        check(noClasses().that().resideInAnyPackage(PROTOCOLS).should().dependOnClassesThat().resideInAnyPackage(ABOVE_PROTOCOLS)
                .because("a protocol core knows nothing of clients, images or disks (docs/ARCHITECTURE.md)"));
    }

    /** Shared value types live on the ground floor ({@code net}), so no protocol reaches into another for them. */
    @Test
    void protocolsAreIndependentOfEachOther() {
        String[] peers = {"dev.netboot.dhcp..", "dev.netboot.tftp..", "dev.netboot.ndp..", "dev.netboot.aoe..", "dev.netboot.replication.."};
        for (String p : peers) {
            String[] others = java.util.Arrays.stream(peers).filter(o -> !o.equals(p)).toArray(String[]::new);
            check(noClasses().that().resideInAPackage(p).should().dependOnClassesThat().resideInAnyPackage(others)
                    .because("each protocol stands on the ground floor and the plumbing, never on another protocol"));
        }
    }

    @Test
    void theGroundFloorImportsNothingOfOurs() {
        check(noClasses().that().resideInAnyPackage(GROUND).should().dependOnClassesThat()
                .resideInAnyPackage(concat(PROTOCOLS, ABOVE_PROTOCOLS))
                .because("shared value types and plumbing are what every floor stands on"));
    }

    @Test
    void theInventoryImportsNoProtocolAndNoDomainPackage() {
        check(noClasses().that().resideInAPackage("dev.netboot.inventory..").should().dependOnClassesThat()
                .resideInAnyPackage(concat(PROTOCOLS, new String[]{"dev.netboot.boot..", "dev.netboot.disks..", "dev.netboot.images..",
                        "dev.netboot.web..", "dev.netboot.app..", "dev.netboot.cli..", "dev.netboot.config.."}))
                .because("the inventory is state: the floors above read and change it, it calls none of them"));
    }

    @Test
    void onlyTheAppAndTheCommandLineWireServicesFromTheConfig() {
        check(noClasses().that().resideOutsideOfPackages("dev.netboot.app..", "dev.netboot.cli..", "dev.netboot.config..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.netboot.app..", "dev.netboot.cli..", "dev.netboot.config..")
                .because("one place builds the services from a configuration (app.Services); everything else is handed what it needs"));
    }

    @Test
    void noPackageCycles() {
        check(slices().matching("dev.netboot.(*)..").should().beFreeOfCycles());
    }

    private static void check(ArchRule rule) {
        rule.check(classes);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
