package dev.netboot.dhcp;

import java.util.List;

/**
 * What the engine made of one request: the reply and how to deliver it, or why there is none; and
 * the effects to carry out, in the order they happened.
 */
public record DhcpResult(Outcome outcome, List<DhcpEffect> effects) {

    public DhcpResult {
        effects = List.copyOf(effects);
    }
}
