-- Seed 004: the LMS tables and the tables they reference, with the Phase 2
-- columns. Types follow the seed (JSON, TIMESTAMP) so the Flask app that reads
-- them sees what it expects.

CREATE TABLE universities (
    id                  VARCHAR PRIMARY KEY,
    name                VARCHAR(255),
    location            VARCHAR(255),
    contact_email       VARCHAR(255),
    created_at          TIMESTAMP DEFAULT NOW()
);

CREATE TABLE teams (
    id                  SERIAL PRIMARY KEY,
    name                VARCHAR(255),
    university_id       VARCHAR REFERENCES universities(id),
    subsystem           VARCHAR(255),
    created_at          TIMESTAMP DEFAULT NOW()
);

CREATE TABLE faculty (
    id                  VARCHAR PRIMARY KEY,
    name                VARCHAR(255),
    email               VARCHAR(255),
    university_id       VARCHAR REFERENCES universities(id),
    department          VARCHAR(255),
    created_at          TIMESTAMP DEFAULT NOW()
);

CREATE TABLE students (
    id                  VARCHAR PRIMARY KEY,
    name                VARCHAR(255),
    email               VARCHAR(255),
    university_id       VARCHAR REFERENCES universities(id),
    team_id             INTEGER REFERENCES teams(id),
    role                VARCHAR(100),
    created_at          TIMESTAMP DEFAULT NOW()
);

CREATE TABLE modules (
    id                  SERIAL PRIMARY KEY,
    module_id           VARCHAR(100) UNIQUE NOT NULL,
    title               VARCHAR(255) NOT NULL,
    description         TEXT,
    category            VARCHAR(100),
    estimated_minutes   INTEGER DEFAULT 10,
    created_by_id       VARCHAR REFERENCES faculty(id),
    university_id       VARCHAR REFERENCES universities(id),
    status              VARCHAR(50) DEFAULT 'draft',
    prerequisites       JSON DEFAULT '[]',
    related_modules     JSON DEFAULT '[]',
    tags                JSON DEFAULT '[]',
    target_audience     VARCHAR(100) DEFAULT 'incoming_students',
    revision            INTEGER DEFAULT 1,
    created_at          TIMESTAMP DEFAULT NOW(),
    updated_at          TIMESTAMP DEFAULT NOW(),
    published_at        TIMESTAMP,
    -- Phase 2
    module_type         VARCHAR(50) DEFAULT 'text',
    interaction_level   VARCHAR(20),
    required_components JSON DEFAULT '[]',
    difficulty_level    INTEGER DEFAULT 1,
    adaptive_config     JSON
);

CREATE INDEX idx_modules_status ON modules(status);
CREATE INDEX idx_modules_category ON modules(category);

CREATE TABLE module_sections (
    id                  SERIAL PRIMARY KEY,
    module_id           INTEGER REFERENCES modules(id) ON DELETE CASCADE NOT NULL,
    section_number      INTEGER NOT NULL,
    section_type        VARCHAR(50) NOT NULL,
    title               VARCHAR(255),
    content             TEXT NOT NULL,
    media_url           VARCHAR(500),
    duration_seconds    INTEGER,
    -- Phase 2
    section_config      JSON,
    completion_criteria JSON,
    UNIQUE(module_id, section_number)
);

CREATE INDEX idx_sections_module ON module_sections(module_id);

CREATE TABLE module_assignments (
    id                  SERIAL PRIMARY KEY,
    module_id           INTEGER REFERENCES modules(id) ON DELETE CASCADE NOT NULL,
    student_id          VARCHAR REFERENCES students(id) ON DELETE CASCADE,
    university_id       VARCHAR REFERENCES universities(id),
    team_id             INTEGER REFERENCES teams(id),
    assigned_by_id      VARCHAR REFERENCES faculty(id),
    assignment_type     VARCHAR(50) DEFAULT 'required',
    due_date            DATE,
    assigned_at         TIMESTAMP DEFAULT NOW(),
    UNIQUE(module_id, student_id)
);

CREATE INDEX idx_assignments_student ON module_assignments(student_id);
CREATE INDEX idx_assignments_module ON module_assignments(module_id);

CREATE TABLE module_progress (
    id                  SERIAL PRIMARY KEY,
    module_id           INTEGER REFERENCES modules(id) ON DELETE CASCADE NOT NULL,
    student_id          VARCHAR REFERENCES students(id) ON DELETE CASCADE NOT NULL,
    status              VARCHAR(50) DEFAULT 'not_started',
    progress_percent    INTEGER DEFAULT 0,
    current_section     INTEGER DEFAULT 1,
    started_at          TIMESTAMP,
    completed_at        TIMESTAMP,
    last_accessed_at    TIMESTAMP DEFAULT NOW(),
    total_time_seconds  INTEGER DEFAULT 0,
    pause_count         INTEGER DEFAULT 0,
    -- Phase 2
    hint_count          INTEGER DEFAULT 0,
    retry_count         INTEGER DEFAULT 0,
    error_count         INTEGER DEFAULT 0,
    UNIQUE(module_id, student_id)
);

CREATE INDEX idx_progress_student ON module_progress(student_id);
CREATE INDEX idx_progress_module ON module_progress(module_id);
CREATE INDEX idx_progress_status ON module_progress(status);

CREATE TABLE module_analytics_events (
    id                  SERIAL PRIMARY KEY,
    module_id           INTEGER REFERENCES modules(id) ON DELETE CASCADE NOT NULL,
    student_id          VARCHAR REFERENCES students(id) ON DELETE CASCADE NOT NULL,
    event_type          VARCHAR(100) NOT NULL,
    event_data          JSON,
    section_number      INTEGER,
    session_id          VARCHAR(255),
    device_type         VARCHAR(50),
    timestamp           TIMESTAMP DEFAULT NOW(),
    time_elapsed_seconds INTEGER
);

CREATE INDEX idx_events_module_student ON module_analytics_events(module_id, student_id);
CREATE INDEX idx_events_type ON module_analytics_events(event_type);
CREATE INDEX idx_events_timestamp ON module_analytics_events(timestamp);

CREATE TABLE module_feedback (
    id                  SERIAL PRIMARY KEY,
    module_id           INTEGER REFERENCES modules(id) ON DELETE CASCADE NOT NULL,
    student_id          VARCHAR REFERENCES students(id) ON DELETE CASCADE NOT NULL,
    rating              INTEGER CHECK (rating >= 1 AND rating <= 5),
    difficulty_rating   INTEGER CHECK (difficulty_rating >= 1 AND difficulty_rating <= 5),
    comment             TEXT,
    created_at          TIMESTAMP DEFAULT NOW(),
    is_anonymous        BOOLEAN DEFAULT FALSE,
    UNIQUE(module_id, student_id)
);

CREATE INDEX idx_feedback_module ON module_feedback(module_id);
CREATE INDEX idx_feedback_rating ON module_feedback(rating);
