package dev.netboot.tftp;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class OptionNegotiatorTest {

    private final OptionNegotiator negotiator = new OptionNegotiator(64);

    private TransferOptions accepted(Map<String, String> requested, long size, int pathMax) {
        var outcome = negotiator.negotiate(requested, size, pathMax);
        assertThat(outcome).isInstanceOf(OptionNegotiator.Accepted.class);
        return ((OptionNegotiator.Accepted) outcome).options();
    }

    private String refused(Map<String, String> requested) {
        var outcome = negotiator.negotiate(requested, 100, 1468);
        assertThat(outcome).isInstanceOf(OptionNegotiator.Refused.class);
        return ((OptionNegotiator.Refused) outcome).reason();
    }

    @Test
    void noOptionsMeansLockStepWithoutOack() {
        assertThat(accepted(Map.of(), 10, 1468)).isEqualTo(TransferOptions.lockStep());
    }

    @Test
    void acknowledgesWhatIpxeAsksFor() {
        var requested = new LinkedHashMap<String, String>();
        requested.put("blksize", "1432");
        requested.put("tsize", "0");
        TransferOptions o = accepted(requested, 123456, 1468);
        assertThat(o.blockSize()).isEqualTo(1432);
        assertThat(o.oack()).containsExactlyInAnyOrderEntriesOf(Map.of("blksize", "1432", "tsize", "123456"));
    }

    @Test
    void capsBlockSizeToThePathMtu() {
        assertThat(accepted(Map.of("blksize", "65464"), 1, 1468).blockSize()).isEqualTo(1468);
        assertThat(accepted(Map.of("blksize", "99999"), 1, 65464).blockSize()).isEqualTo(65464);
    }

    @Test
    void capsWindowAndRecordsTimeout() {
        TransferOptions o = accepted(Map.of("windowsize", "1000", "timeout", "3"), 1, 1468);
        assertThat(o.windowSize()).isEqualTo(64);
        assertThat(o.timeout()).isEqualTo(Optional.of(Duration.ofSeconds(3)));
        assertThat(o.oack()).containsEntry("windowsize", "64").containsEntry("timeout", "3");
    }

    @Test
    void emptyFilesGetNoTsizeBecauseCurlRejectsZero() {
        assertThat(accepted(Map.of("tsize", "0"), 0, 1468).oack()).isEmpty();
    }

    @Test
    void ignoresUnknownOptions() {
        assertThat(accepted(Map.of("multicast", ""), 1, 1468).oack()).isEmpty();
    }

    @Test
    void refusesValuesItCannotHonour() {
        assertThat(refused(Map.of("blksize", "7"))).contains("blksize");
        assertThat(refused(Map.of("blksize", "abc"))).contains("blksize");
        assertThat(refused(Map.of("blksize", "-512"))).contains("blksize");
        assertThat(refused(Map.of("timeout", "0"))).contains("timeout");
        assertThat(refused(Map.of("timeout", "256"))).contains("timeout");
        assertThat(refused(Map.of("windowsize", "0"))).contains("windowsize");
        assertThat(refused(Map.of("tsize", "x"))).contains("tsize");
    }
}
