package dev.netboot.cli;

import dev.netboot.app.Appliance;
import dev.netboot.config.ConfigLoader;
import dev.netboot.config.NetbootConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Start every service of the appliance and run until stopped (Ctrl-C or SIGTERM).",
                "With no configuration it serves the files under <dataDir>/boot over TFTP (udp 69) and HTTP (tcp 8080),",
                "and answers PXE clients as a proxyDHCP server (udp 67 and 4011; never hands out addresses: dhcp.mode)."})
final class ServeCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @Mixin
    ConfigOptions configOptions;

    @Override
    public Integer call() throws Exception {
        NetbootConfig config = configOptions.load();
        Appliance appliance;
        try {
            appliance = new Appliance(config).start();
        } catch (java.io.IOException e) {
            log.error("cannot start: {}", e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping");
            appliance.close();
            stopped.countDown();
        }, "netboot-shutdown"));
        log.info("netboot is running (data in {}); stop with Ctrl-C", config.dataDir());
        stopped.await();
        return 0;
    }
}
