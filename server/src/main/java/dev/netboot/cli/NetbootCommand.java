package dev.netboot.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "netboot",
        mixinStandardHelpOptions = true,
        version = "netboot 0.1.0",
        description = {
                "A network-boot appliance: diskless machines boot over the network from this one server.",
                "Start with 'netboot serve'; 'netboot config show' prints every setting and its default."},
        subcommands = {ServeCommand.class, ConfigCommand.class, ClientCommand.class, LeaseCommand.class, DiskCommand.class, ImageCommand.class, CloneCommand.class, DemoCommand.class, MenuCommand.class, InitrdCommand.class, LoadersCommand.class, InstallersCommand.class, ReplicationCommand.class, AotTrainCommand.class,
                picocli.CommandLine.HelpCommand.class})
public final class NetbootCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a command: try 'netboot serve' or 'netboot --help'");
    }
}
