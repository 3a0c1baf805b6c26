-- A FaceZones database of schema 1 (revision 0001_first_schema), as `sqlite3 .dump` writes it.
-- Every later version of FaceZones must open it: tests/store/test_store_opening.py.
BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0001_first_schema');
CREATE TABLE course_sessions (
	id INTEGER NOT NULL, 
	person_id INTEGER NOT NULL, 
	course_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	due DATE NOT NULL, 
	areas JSON NOT NULL, 
	lines JSON NOT NULL, 
	done_at DATETIME, 
	massage_session_id INTEGER, 
	PRIMARY KEY (id), 
	FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE, 
	FOREIGN KEY(course_id) REFERENCES courses (id) ON DELETE CASCADE, 
	FOREIGN KEY(massage_session_id) REFERENCES massage_sessions (id) ON DELETE SET NULL
);
CREATE TABLE courses (
	id INTEGER NOT NULL, 
	person_id INTEGER NOT NULL, 
	treatment_id INTEGER NOT NULL, 
	proposed_at DATETIME NOT NULL, 
	wanted_min INTEGER NOT NULL, 
	wanted_max INTEGER NOT NULL, 
	note TEXT NOT NULL, 
	source TEXT NOT NULL, 
	closed_at DATETIME, 
	closed_reason VARCHAR(200) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE, 
	FOREIGN KEY(treatment_id) REFERENCES treatments (id) ON DELETE CASCADE
);
CREATE TABLE facezones_meta (
	"key" VARCHAR(40) NOT NULL, 
	value VARCHAR(200) NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "facezones_meta" VALUES('app','facezones');
INSERT INTO "facezones_meta" VALUES('schema','1');
CREATE TABLE massage_sessions (
	id INTEGER NOT NULL, 
	person_id INTEGER NOT NULL, 
	started_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	method VARCHAR(64) NOT NULL, 
	mode VARCHAR(20) NOT NULL, 
	lines JSON NOT NULL, 
	warnings JSON NOT NULL, 
	stop_signs JSON NOT NULL, 
	note TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE
);
INSERT INTO "massage_sessions" VALUES(1,1,'2026-11-21 09:00:00.000000','2026-11-21 09:10:00.000000','hands','by hand','{"neck_left": 3}','{}','[]','first session');
CREATE TABLE people (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_people_name UNIQUE (name)
);
INSERT INTO "people" VALUES(1,'me','2026-12-02 06:33:49.000000');
CREATE TABLE plans (
	id INTEGER NOT NULL, 
	person_id INTEGER NOT NULL, 
	saved_at DATETIME NOT NULL, 
	method VARCHAR(64) NOT NULL, 
	screening JSON NOT NULL, 
	margin_mm FLOAT, 
	caution_mm FLOAT, 
	PRIMARY KEY (id), 
	FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE
);
CREATE TABLE treatments (
	id INTEGER NOT NULL, 
	person_id INTEGER NOT NULL, 
	areas JSON NOT NULL, 
	product VARCHAR(64) NOT NULL, 
	treated_at DATETIME NOT NULL, 
	has_time BOOLEAN NOT NULL, 
	planned BOOLEAN NOT NULL, 
	planned_for DATETIME, 
	done_marked_at DATETIME, 
	injector_waits JSON NOT NULL, 
	note TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(person_id) REFERENCES people (id) ON DELETE CASCADE
);
INSERT INTO "treatments" VALUES(1,1,'["lips"]','ha_filler','2026-11-20 00:00:00.000000',0,0,NULL,NULL,'{"lips": "10d"}','','2026-12-02 06:33:49.000000');
CREATE INDEX ix_treatments_person_id ON treatments (person_id);
CREATE INDEX ix_plans_person_id ON plans (person_id);
CREATE INDEX ix_courses_person_id ON courses (person_id);
CREATE INDEX ix_massage_sessions_person_id ON massage_sessions (person_id);
CREATE INDEX ix_course_sessions_person_id ON course_sessions (person_id);
CREATE INDEX ix_courses_treatment_id ON courses (treatment_id);
CREATE INDEX ix_course_sessions_course_id ON course_sessions (course_id);
COMMIT;
