-- The language a person chose (ja or en): their next sign-in, on any browser, opens in it.
ALTER TABLE users ADD COLUMN lang TEXT;
