-- A server database as the registry made it before Alembic migrations (sqlite3 .dump).
BEGIN TRANSACTION;
CREATE TABLE event_alias (
	user_email VARCHAR(320) NOT NULL, 
	event_id VARCHAR(512) NOT NULL, 
	series_id VARCHAR(64) NOT NULL, 
	occurrence VARCHAR(32), 
	PRIMARY KEY (user_email, event_id)
);
INSERT INTO "event_alias" VALUES('grace@example.org','grace-copy','s1','2027-01-12T09:00:00+00:00');
CREATE TABLE series (
	id VARCHAR(64) NOT NULL, 
	request_id VARCHAR(64) NOT NULL, 
	employee_email VARCHAR(320) NOT NULL, 
	employee_name VARCHAR(200) NOT NULL, 
	employee_tz VARCHAR(64) NOT NULL, 
	employee_locale VARCHAR(8) NOT NULL, 
	manager_email VARCHAR(320) NOT NULL, 
	manager_name VARCHAR(200) NOT NULL, 
	manager_tz VARCHAR(64) NOT NULL, 
	manager_locale VARCHAR(8) NOT NULL, 
	tz VARCHAR(64) NOT NULL, 
	rule TEXT NOT NULL, 
	duration INTEGER NOT NULL, 
	place VARCHAR(200) NOT NULL, 
	online BOOLEAN NOT NULL, 
	event_copy VARCHAR(16) NOT NULL, 
	template VARCHAR(64) NOT NULL, 
	master_event_id VARCHAR(512), 
	ical_uid VARCHAR(512), 
	created DATETIME NOT NULL, 
	active_pair VARCHAR(641), 
	PRIMARY KEY (id), 
	UNIQUE (request_id)
);
INSERT INTO "series" VALUES('s1','req-1','ada@example.org','Ada','Europe/Amsterdam','nl','grace@example.org','Grace','America/New_York','en','Europe/Amsterdam','DTSTART;TZID=Europe/Amsterdam:20261201T100000
RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=1TU',60,'Koffiebar',0,'full','three_themes','master-1','uid-1','2026-11-24 09:00:00.000000','ada@example.org|grace@example.org');
CREATE UNIQUE INDEX ix_series_active_pair ON series (active_pair);
CREATE INDEX ix_series_ical_uid ON series (ical_uid);
CREATE INDEX ix_series_manager_email ON series (manager_email);
CREATE INDEX ix_series_employee_email ON series (employee_email);
COMMIT;
