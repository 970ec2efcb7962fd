-- The sample matrimonial/social application of lambda-lake's reference consumers.
-- All times are UTC (DATETIME(3), written by the application with UTC_TIMESTAMP(3)).
-- Statements are separated by a semicolon at the end of a line.

CREATE TABLE profiles (
  id BIGINT PRIMARY KEY,
  name VARCHAR(80) NOT NULL,
  gender VARCHAR(10) NOT NULL,
  birth_date DATE NOT NULL,
  city VARCHAR(40) NOT NULL,
  religion VARCHAR(30) NOT NULL,
  community VARCHAR(40) NOT NULL,
  education VARCHAR(30) NOT NULL,
  -- 1 school, 2 diploma, 3 bachelor, 4 master, 5 doctorate
  education_level INT NOT NULL,
  -- Hard preferences: a recommendation never falls outside them.
  pref_gender VARCHAR(10) NOT NULL,
  pref_age_min INT NOT NULL,
  pref_age_max INT NOT NULL,
  -- NULL: any religion
  pref_religion VARCHAR(30) NULL,
  -- Soft preferences: they raise a candidate's score.
  pref_city VARCHAR(40) NULL,
  pref_education_min INT NULL,
  -- active, hidden (paused by the user), deleted
  status VARCHAR(10) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  CONSTRAINT profiles_age_range CHECK (pref_age_min >= 18 AND pref_age_min <= pref_age_max)
);

-- An interest one profile sends to another; the receiver accepts or declines it.
CREATE TABLE interests (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  sender_id BIGINT NOT NULL,
  receiver_id BIGINT NOT NULL,
  -- sent, accepted, declined
  status VARCHAR(10) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  responded_at DATETIME(3) NULL,
  KEY interests_sender (sender_id, created_at),
  CONSTRAINT interests_sender_fk FOREIGN KEY (sender_id) REFERENCES profiles (id),
  CONSTRAINT interests_receiver_fk FOREIGN KEY (receiver_id) REFERENCES profiles (id)
);

CREATE TABLE messages (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  sender_id BIGINT NOT NULL,
  receiver_id BIGINT NOT NULL,
  body VARCHAR(1000) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY messages_sender (sender_id, created_at),
  CONSTRAINT messages_sender_fk FOREIGN KEY (sender_id) REFERENCES profiles (id),
  CONSTRAINT messages_receiver_fk FOREIGN KEY (receiver_id) REFERENCES profiles (id)
);

CREATE TABLE logins (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  profile_id BIGINT NOT NULL,
  ip VARCHAR(45) NOT NULL,
  device VARCHAR(20) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY logins_profile (profile_id, created_at),
  CONSTRAINT logins_profile_fk FOREIGN KEY (profile_id) REFERENCES profiles (id)
);

-- A profile reported by another one (fake profile, harassment, ...).
CREATE TABLE reports (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  reporter_id BIGINT NOT NULL,
  reported_id BIGINT NOT NULL,
  reason VARCHAR(40) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  KEY reports_reported (reported_id, created_at),
  CONSTRAINT reports_reporter_fk FOREIGN KEY (reporter_id) REFERENCES profiles (id),
  CONSTRAINT reports_reported_fk FOREIGN KEY (reported_id) REFERENCES profiles (id)
);
