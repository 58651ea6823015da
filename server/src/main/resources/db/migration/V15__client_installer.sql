-- Installer mode (issue 15): the installer a client boots next instead of its system, and when that
-- installer fetched its initrd (the install is under way; the PC's next menu request ends it).
ALTER TABLE clients ADD COLUMN installer VARCHAR(128);
ALTER TABLE clients ADD COLUMN install_started TIMESTAMP WITH TIME ZONE;
