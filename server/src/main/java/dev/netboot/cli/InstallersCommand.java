package dev.netboot.cli;

import dev.netboot.app.Services;
import dev.netboot.boot.installer.Installer;
import dev.netboot.boot.installer.InstallerCatalog;
import dev.netboot.boot.installer.InstallerFetcher;
import dev.netboot.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "installers", mixinStandardHelpOptions = true,
        description = "Installers a client can boot instead of its system (netboot client install MAC --installer NAME).",
        subcommands = {InstallersCommand.ListInstallers.class, InstallersCommand.Fetch.class})
final class InstallersCommand implements Runnable {

    @Override
    public void run() {
        System.out.println("Try 'netboot installers list' or 'netboot installers fetch debian'.");
    }

    abstract static class Action implements Callable<Integer> {
        @Mixin ConfigOptions configOptions;

        abstract int run(InstallerCatalog catalog) throws IOException, InterruptedException;

        @Override
        public Integer call() {
            try (Services services = new Services(configOptions.load(), Clock.systemUTC())) {
                return run(services.installers());
            } catch (ConfigLoader.ConfigException e) {
                System.err.println("netboot: " + e.getMessage());
                return 2;
            } catch (IOException | IllegalArgumentException | IllegalStateException e) {
                System.err.println("netboot: " + e.getMessage());
                return 1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 130;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Each installer, and whether its files are there.")
    static final class ListInstallers extends Action {
        @Override
        int run(InstallerCatalog catalog) throws IOException {
            System.out.printf("%-12s  %-40s  %s%n", "NAME", "TITLE", "STATE");
            for (String name : catalog.names()) {
                Optional<Installer> i = catalog.find(name);
                if (i.isEmpty()) continue;
                String state;
                try {
                    catalog.ready(name);
                    state = "ready (" + i.get().kernel().getParent() + ")";
                } catch (IOException | IllegalArgumentException e) {
                    state = e.getMessage();
                }
                System.out.printf("%-12s  %-40s  %s%n", name, i.get().title(), state);
            }
            System.out.println("definitions: " + catalog.definitions().toAbsolutePath() + " (missing ones: packaged defaults)");
            return 0;
        }
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = "Get an installer's kernel, initrd and its kernel's modules with apt-get download and dpkg -x into <dataDir>/installers/NAME.")
    static final class Fetch extends Action {
        @Parameters(paramLabel = "NAME") String name;

        @Override
        int run(InstallerCatalog catalog) throws IOException, InterruptedException {
            Installer i = new InstallerFetcher(catalog, step -> System.err.println("netboot: " + step)).fetch(name);
            System.out.println("installer " + name + " ready: " + i.kernel() + ", " + i.initrd() + ", modules in " + i.modules());
            return 0;
        }
    }
}
