package dev.netboot.inventory;

/** A database operation failed; the message says which, in words for an operator. */
public final class InventoryException extends RuntimeException {
    public InventoryException(String message, Throwable cause) { super(message, cause); }
    public InventoryException(String message) { super(message); }
}
