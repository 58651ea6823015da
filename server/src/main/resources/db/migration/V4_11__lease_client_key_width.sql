-- Option 61 may be longer than 255 bytes (RFC 3396 concatenates split options), and client_key holds it
-- in hex: a 301-byte identifier overflowed VARCHAR(600) and, in one transaction, lost every other
-- lease of its batch. 8192 characters hold any identifier a DHCP message can carry.
-- (Numbered 4.11, after the issue it fixes, so another branch's V4 cannot collide with it.)
ALTER TABLE leases ALTER COLUMN client_key SET DATA TYPE VARCHAR(8192);
