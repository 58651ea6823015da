package dev.netboot.cli;

import dev.netboot.app.Services;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import dev.netboot.loaders.BootLoaders;
import dev.netboot.loaders.ClientKind;
import dev.netboot.loaders.Loader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** The boot loaders the distribution's packages bring, which the server serves under stable names. */
@Command(name = "loaders", mixinStandardHelpOptions = true,
        description = "The boot loaders from the distribution's packages the server serves (list), and installing the missing ones (install).",
        subcommands = {LoadersCommand.ListLoaders.class, LoadersCommand.Install.class})
final class LoadersCommand implements Runnable {

    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Each loader: served as, found where or missing, and its package; then which kinds of PC boot now.")
    static final class ListLoaders implements Callable<Integer> {
        @Mixin ConfigOptions configOptions;

        @Override
        public Integer call() throws ConfigLoader.ConfigException {
            NetbootConfig config = configOptions.load();
            try (Services services = new Services(config, java.time.Clock.systemUTC())) {
                BootLoaders found = services.bootLoaders();
                System.out.printf("%-22s %-28s %s%n", "SERVED AS", "PACKAGE", "FILE");
                for (Loader l : Loader.values()) {
                    System.out.printf("%-22s %-28s %s%n", l.servedName(), l.debianPackage(),
                            found.file(l).map(Object::toString).orElse("MISSING"));
                }
                System.out.println();
                System.out.println("client kinds (loaders under " + found.root() + ", boot.loader=" + config.boot().loader() + "):");
                for (String line : found.describeKinds()) System.out.println("  " + line);
                List<String> missing = found.missingPackages();
                if (!missing.isEmpty()) System.out.println("\nto install the missing ones: netboot loaders install (apt-get install " + String.join(" ", missing) + ")");
                return 0;
            }
        }
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = "apt-get install the packages of the missing loaders (all kinds, or --kind ones); --print only prints the command.")
    static final class Install implements Callable<Integer> {
        @Mixin ConfigOptions configOptions;
        @Option(names = "--kind", split = ",", description = "Only for these kinds: ${COMPLETION-CANDIDATES}") List<ClientKind> kinds = List.of();
        @Option(names = "--print", description = "Print the apt-get command instead of running it") boolean print;

        @Override
        public Integer call() throws ConfigLoader.ConfigException, IOException, InterruptedException {
            NetbootConfig config = configOptions.load();
            try (Services services = new Services(config, java.time.Clock.systemUTC())) {
                BootLoaders found = services.bootLoaders();
                List<String> missing = found.missingPackages(kinds.isEmpty() ? List.of(ClientKind.values()) : kinds);
                if (missing.isEmpty()) {
                    System.out.println("every loader is there (under " + found.root() + ")");
                    return 0;
                }
                List<String> cmd = new ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
                cmd.addAll(missing);
                if (print || !found.root().toAbsolutePath().normalize().toString().equals("/")) {
                    if (!print) System.err.println("boot.loadersRoot is " + found.root() + ", not this machine's /: not installing; the command is:");
                    System.out.println(String.join(" ", cmd));
                    return print ? 0 : 1;
                }
                System.out.println("running: " + String.join(" ", cmd));
                int exit = new ProcessBuilder(cmd).inheritIO().start().waitFor();
                if (exit != 0) {
                    System.err.println("apt-get failed (exit " + exit + "); try 'apt-get update' first");
                    return exit;
                }
                BootLoaders after = BootLoaders.discover(found.root());
                for (String line : after.describeKinds()) System.out.println("  " + line);
                System.out.println("a running 'netboot serve' finds them at its next start");
                return 0;
            }
        }
    }
}
