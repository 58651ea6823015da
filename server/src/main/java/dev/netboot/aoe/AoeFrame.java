package dev.netboot.aoe;

import dev.netboot.net.MacAddress;


/** One whole AoE Ethernet frame: addresses, AoE header and the command's argument. */
public record AoeFrame(MacAddress destination, MacAddress source, AoeHeader header, AoeMessage message) {}
