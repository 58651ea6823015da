-- Imported images: where the disk image is, which kernel it boots and how big it is; and what kind of
-- disk a client's disk is (a copy-on-write clone file, an LVM thin snapshot, or a flattened copy).
-- Plain ADD COLUMN: the same script runs on H2 and PostgreSQL.
ALTER TABLE images ADD COLUMN disk_path VARCHAR(1024);
ALTER TABLE images ADD COLUMN kernel_version VARCHAR(128);
ALTER TABLE images ADD COLUMN size_bytes BIGINT;
ALTER TABLE images ADD COLUMN source VARCHAR(1024);
ALTER TABLE disks ADD COLUMN kind VARCHAR(16);
