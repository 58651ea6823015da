-- chaddr is 6 bytes on Ethernet but up to 16 elsewhere: 47 characters in colon-hex form.
-- (V1 is released and must never change: Flyway checks its checksum on every start.)
-- SET DATA TYPE is standard SQL, accepted by both H2 and PostgreSQL.
ALTER TABLE leases ALTER COLUMN mac SET DATA TYPE VARCHAR(47);
