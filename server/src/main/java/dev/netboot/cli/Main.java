package dev.netboot.cli; public class Main { public static void main(String[] a){} }
