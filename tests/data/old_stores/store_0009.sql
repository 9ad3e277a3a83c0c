--
-- PostgreSQL database dump
--

\restrict tzvadx2EYUn56G8DcWfq6xNCXKhVWruCGRr8ZFgal0w8bfn9K6AUmR3sTlIQjTa

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: alembic_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);


--
-- Name: analyses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.analyses (
    id integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    threshold double precision,
    scope_kind character varying(16) NOT NULL,
    scope_names json NOT NULL,
    method character varying(16) DEFAULT 'z'::character varying NOT NULL,
    adjust character varying(16),
    min_n integer DEFAULT 1 NOT NULL,
    overdispersion double precision,
    tests integer,
    expected_false_flags double precision,
    scale_name character varying(64),
    scale json,
    inputs_fingerprint character varying(64),
    scope_terms json
);


--
-- Name: analyses_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.analyses_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: analyses_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.analyses_id_seq OWNED BY public.analyses.id;


--
-- Name: analysis_groups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.analysis_groups (
    analysis_id integer NOT NULL,
    group_id integer NOT NULL,
    count integer NOT NULL,
    mean_gpa double precision,
    stddev double precision,
    z_score double precision,
    p_value double precision,
    significant boolean NOT NULL,
    p_adjusted double precision,
    significant_adjusted boolean,
    effect_size double precision,
    no_test_reason character varying(80)
);


--
-- Name: analysis_sections; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.analysis_sections (
    analysis_id integer NOT NULL,
    section_id integer NOT NULL,
    count integer NOT NULL,
    mean_gpa double precision,
    grade_counts json NOT NULL
);


--
-- Name: enrollments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.enrollments (
    section_id integer NOT NULL,
    student_id integer NOT NULL,
    grade character varying(2) NOT NULL,
    source_file_id integer
);


--
-- Name: group_sections; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.group_sections (
    group_id integer NOT NULL,
    section_id integer NOT NULL,
    source_file_id integer
);


--
-- Name: groups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.groups (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    mean_gpa double precision,
    stddev double precision,
    source_file_id integer
);


--
-- Name: groups_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.groups_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: groups_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.groups_id_seq OWNED BY public.groups.id;


--
-- Name: list_appearances; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.list_appearances (
    id integer NOT NULL,
    student_id integer NOT NULL,
    section_name character varying(200) NOT NULL,
    grade character varying(2) NOT NULL,
    source_file_id integer
);


--
-- Name: list_appearances_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.list_appearances_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: list_appearances_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.list_appearances_id_seq OWNED BY public.list_appearances.id;


--
-- Name: performances; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.performances (
    id integer NOT NULL,
    section_id integer NOT NULL,
    student_id integer NOT NULL,
    grade character varying(2) NOT NULL,
    category character varying(4) NOT NULL,
    analysis_id integer NOT NULL,
    appeared_before boolean NOT NULL,
    earlier_terms_on_work_list integer,
    earlier_terms_on_good_list integer,
    first_term_listed character varying(32),
    CONSTRAINT ck_performances_category CHECK (((category)::text = ANY ((ARRAY['good'::character varying, 'bad'::character varying])::text[])))
);


--
-- Name: performances_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.performances_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: performances_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.performances_id_seq OWNED BY public.performances.id;


--
-- Name: run_groups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.run_groups (
    run_id integer NOT NULL,
    group_id integer NOT NULL,
    source_file_id integer
);


--
-- Name: runs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.runs (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    source_file_id integer
);


--
-- Name: runs_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.runs_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: runs_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.runs_id_seq OWNED BY public.runs.id;


--
-- Name: sections; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sections (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    mean_gpa double precision,
    count integer,
    credit_hours double precision,
    term character varying(32),
    header_name character varying(200),
    term_order integer,
    source_file_id integer
);


--
-- Name: sections_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.sections_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: sections_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.sections_id_seq OWNED BY public.sections.id;


--
-- Name: source_files; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.source_files (
    id integer NOT NULL,
    path character varying(1000) NOT NULL,
    sha256 character varying(64) NOT NULL,
    ingested_at timestamp with time zone NOT NULL,
    row_count integer NOT NULL,
    grades_stored integer DEFAULT 0 NOT NULL
);


--
-- Name: source_files_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.source_files_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: source_files_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.source_files_id_seq OWNED BY public.source_files.id;


--
-- Name: store_scale; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.store_scale (
    id integer NOT NULL,
    name character varying(64) NOT NULL,
    scale json NOT NULL,
    set_at timestamp with time zone NOT NULL,
    CONSTRAINT ck_store_scale_single_row CHECK ((id = 1))
);


--
-- Name: store_scale_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.store_scale_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: store_scale_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.store_scale_id_seq OWNED BY public.store_scale.id;


--
-- Name: students; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.students (
    id integer NOT NULL,
    fname character varying(200) NOT NULL,
    lname character varying(200) NOT NULL,
    student_id character varying(64) NOT NULL,
    source_file_id integer
);


--
-- Name: students_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.students_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: students_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.students_id_seq OWNED BY public.students.id;


--
-- Name: zscores; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.zscores (
    id integer NOT NULL,
    section_id integer NOT NULL,
    z_score double precision,
    p_value double precision,
    significant boolean NOT NULL,
    threshold double precision NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    analysis_id integer NOT NULL,
    group_id integer,
    p_adjusted double precision,
    significant_adjusted boolean,
    effect_size double precision,
    no_test_reason character varying(80)
);


--
-- Name: zscores_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.zscores_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: zscores_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.zscores_id_seq OWNED BY public.zscores.id;


--
-- Name: analyses id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analyses ALTER COLUMN id SET DEFAULT nextval('public.analyses_id_seq'::regclass);


--
-- Name: groups id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups ALTER COLUMN id SET DEFAULT nextval('public.groups_id_seq'::regclass);


--
-- Name: list_appearances id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.list_appearances ALTER COLUMN id SET DEFAULT nextval('public.list_appearances_id_seq'::regclass);


--
-- Name: performances id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performances ALTER COLUMN id SET DEFAULT nextval('public.performances_id_seq'::regclass);


--
-- Name: runs id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs ALTER COLUMN id SET DEFAULT nextval('public.runs_id_seq'::regclass);


--
-- Name: sections id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sections ALTER COLUMN id SET DEFAULT nextval('public.sections_id_seq'::regclass);


--
-- Name: source_files id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.source_files ALTER COLUMN id SET DEFAULT nextval('public.source_files_id_seq'::regclass);


--
-- Name: store_scale id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.store_scale ALTER COLUMN id SET DEFAULT nextval('public.store_scale_id_seq'::regclass);


--
-- Name: students id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.students ALTER COLUMN id SET DEFAULT nextval('public.students_id_seq'::regclass);


--
-- Name: zscores id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.zscores ALTER COLUMN id SET DEFAULT nextval('public.zscores_id_seq'::regclass);


--
-- Data for Name: alembic_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.alembic_version VALUES ('0009');


--
-- Data for Name: analyses; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.analyses VALUES (1, '2025-01-15 10:00:00+00', 0.05, 'all', '[]', 'z', 'bh', 1, NULL, 1, 0.05, 'thirds', '{"name": "thirds", "points": {"A+": 4.0, "A": 4.0, "A-": 3.67, "B+": 3.33, "B": 3.0, "B-": 2.67, "C+": 2.33, "C": 2.0, "C-": 1.67, "D+": 1.33, "D": 1.0, "D-": 0.67, "F": 0.0}, "not_counted": ["I", "W", "P", "NP", "S", "U", "CR", "NC", "AU"], "good": ["A+", "A", "A-"], "work": ["D+", "D", "D-", "F"]}', '715081cfcffa416fba0eb51a8a087576a2560c925b81a868385e2ebd58b66551', '[]');


--
-- Data for Name: analysis_groups; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.analysis_groups VALUES (1, 1, 2, 2, 2, NULL, NULL, false, NULL, false, NULL, 'only group in the analysis');


--
-- Data for Name: analysis_sections; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.analysis_sections VALUES (1, 1, 2, 2, '{"A": 1, "F": 1}');


--
-- Data for Name: enrollments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.enrollments VALUES (1, 1, 'A', 1);
INSERT INTO public.enrollments VALUES (1, 2, 'F', 1);


--
-- Data for Name: group_sections; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.group_sections VALUES (1, 1, 1);


--
-- Data for Name: groups; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.groups VALUES (1, 'OLDGROUP', 2, 2, 1);


--
-- Data for Name: list_appearances; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.list_appearances VALUES (1, 1, 'OLD100.01S24', 'A', 1);


--
-- Data for Name: performances; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.performances VALUES (1, 1, 1, 'A', 'good', 1, true, 0, 0, 'F24');
INSERT INTO public.performances VALUES (2, 1, 2, 'F', 'bad', 1, false, 0, 0, 'F24');


--
-- Data for Name: run_groups; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.run_groups VALUES (1, 1, 1);


--
-- Data for Name: runs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.runs VALUES (1, 'OLDRUN', 1);


--
-- Data for Name: sections; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sections VALUES (1, 'OLD101.01F24', 2, 2, 3, 'F24', NULL, 20244, 1);


--
-- Data for Name: source_files; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.source_files VALUES (1, 'old/grades.csv', '0000000000000000000000000000000000000000000000000000000000000000', '2025-01-15 10:00:00+00', 2, 2);


--
-- Data for Name: store_scale; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.store_scale VALUES (1, 'thirds', '{"name": "thirds", "points": {"A+": 4.0, "A": 4.0, "A-": 3.67, "B+": 3.33, "B": 3.0, "B-": 2.67, "C+": 2.33, "C": 2.0, "C-": 1.67, "D+": 1.33, "D": 1.0, "D-": 0.67, "F": 0.0}, "not_counted": ["I", "W", "P", "NP", "S", "U", "CR", "NC", "AU"], "good": ["A+", "A", "A-"], "work": ["D+", "D", "D-", "F"]}', '2025-01-15 10:00:00+00');


--
-- Data for Name: students; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.students VALUES (1, 'Ann', 'Lee', '0001', 1);
INSERT INTO public.students VALUES (2, 'Bo', 'Moe', '0002', 1);


--
-- Data for Name: zscores; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.zscores VALUES (1, 1, 0, 1, false, 0.05, '2025-01-15 10:00:00+00', 1, 1, 1, false, 0, NULL);


--
-- Name: analyses_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.analyses_id_seq', 1, true);


--
-- Name: groups_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.groups_id_seq', 1, true);


--
-- Name: list_appearances_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.list_appearances_id_seq', 1, true);


--
-- Name: performances_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.performances_id_seq', 2, true);


--
-- Name: runs_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.runs_id_seq', 1, true);


--
-- Name: sections_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.sections_id_seq', 1, true);


--
-- Name: source_files_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.source_files_id_seq', 1, true);


--
-- Name: store_scale_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.store_scale_id_seq', 1, true);


--
-- Name: students_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.students_id_seq', 2, true);


--
-- Name: zscores_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.zscores_id_seq', 1, true);


--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);


--
-- Name: analyses pk_analyses; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analyses
    ADD CONSTRAINT pk_analyses PRIMARY KEY (id);


--
-- Name: analysis_groups pk_analysis_groups; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analysis_groups
    ADD CONSTRAINT pk_analysis_groups PRIMARY KEY (analysis_id, group_id);


--
-- Name: analysis_sections pk_analysis_sections; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analysis_sections
    ADD CONSTRAINT pk_analysis_sections PRIMARY KEY (analysis_id, section_id);


--
-- Name: enrollments pk_enrollments; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollments
    ADD CONSTRAINT pk_enrollments PRIMARY KEY (section_id, student_id);


--
-- Name: group_sections pk_group_sections; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.group_sections
    ADD CONSTRAINT pk_group_sections PRIMARY KEY (group_id, section_id);


--
-- Name: groups pk_groups; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT pk_groups PRIMARY KEY (id);


--
-- Name: list_appearances pk_list_appearances; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.list_appearances
    ADD CONSTRAINT pk_list_appearances PRIMARY KEY (id);


--
-- Name: performances pk_performances; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performances
    ADD CONSTRAINT pk_performances PRIMARY KEY (id);


--
-- Name: run_groups pk_run_groups; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.run_groups
    ADD CONSTRAINT pk_run_groups PRIMARY KEY (run_id, group_id);


--
-- Name: runs pk_runs; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT pk_runs PRIMARY KEY (id);


--
-- Name: sections pk_sections; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sections
    ADD CONSTRAINT pk_sections PRIMARY KEY (id);


--
-- Name: source_files pk_source_files; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.source_files
    ADD CONSTRAINT pk_source_files PRIMARY KEY (id);


--
-- Name: store_scale pk_store_scale; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.store_scale
    ADD CONSTRAINT pk_store_scale PRIMARY KEY (id);


--
-- Name: students pk_students; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.students
    ADD CONSTRAINT pk_students PRIMARY KEY (id);


--
-- Name: zscores pk_zscores; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.zscores
    ADD CONSTRAINT pk_zscores PRIMARY KEY (id);


--
-- Name: groups uq_groups_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT uq_groups_name UNIQUE (name);


--
-- Name: list_appearances uq_list_appearances_student_id_section_name_grade; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.list_appearances
    ADD CONSTRAINT uq_list_appearances_student_id_section_name_grade UNIQUE (student_id, section_name, grade);


--
-- Name: performances uq_performances_analysis_id_section_id_student_id_category; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performances
    ADD CONSTRAINT uq_performances_analysis_id_section_id_student_id_category UNIQUE (analysis_id, section_id, student_id, category);


--
-- Name: runs uq_runs_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT uq_runs_name UNIQUE (name);


--
-- Name: sections uq_sections_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sections
    ADD CONSTRAINT uq_sections_name UNIQUE (name);


--
-- Name: students uq_students_student_id; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.students
    ADD CONSTRAINT uq_students_student_id UNIQUE (student_id);


--
-- Name: ix_analyses_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_analyses_created_at ON public.analyses USING btree (created_at);


--
-- Name: ix_analysis_groups_group_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_analysis_groups_group_id ON public.analysis_groups USING btree (group_id);


--
-- Name: ix_analysis_sections_section_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_analysis_sections_section_id ON public.analysis_sections USING btree (section_id);


--
-- Name: ix_enrollments_source_file_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_enrollments_source_file_id ON public.enrollments USING btree (source_file_id);


--
-- Name: ix_enrollments_student_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_enrollments_student_id ON public.enrollments USING btree (student_id);


--
-- Name: ix_group_sections_section_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_group_sections_section_id ON public.group_sections USING btree (section_id);


--
-- Name: ix_list_appearances_section_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_list_appearances_section_name ON public.list_appearances USING btree (section_name);


--
-- Name: ix_list_appearances_source_file_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_list_appearances_source_file_id ON public.list_appearances USING btree (source_file_id);


--
-- Name: ix_performances_student_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_performances_student_id ON public.performances USING btree (student_id);


--
-- Name: ix_run_groups_group_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_run_groups_group_id ON public.run_groups USING btree (group_id);


--
-- Name: ix_sections_term_order; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_sections_term_order ON public.sections USING btree (term_order);


--
-- Name: ix_source_files_sha256; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_source_files_sha256 ON public.source_files USING btree (sha256);


--
-- Name: ix_zscores_analysis_id_section_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_zscores_analysis_id_section_id ON public.zscores USING btree (analysis_id, section_id);


--
-- Name: ix_zscores_group_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_zscores_group_id ON public.zscores USING btree (group_id);


--
-- Name: analysis_groups fk_analysis_groups_analysis_id_analyses; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analysis_groups
    ADD CONSTRAINT fk_analysis_groups_analysis_id_analyses FOREIGN KEY (analysis_id) REFERENCES public.analyses(id) ON DELETE CASCADE;


--
-- Name: analysis_groups fk_analysis_groups_group_id_groups; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analysis_groups
    ADD CONSTRAINT fk_analysis_groups_group_id_groups FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;


--
-- Name: analysis_sections fk_analysis_sections_analysis_id_analyses; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analysis_sections
    ADD CONSTRAINT fk_analysis_sections_analysis_id_analyses FOREIGN KEY (analysis_id) REFERENCES public.analyses(id) ON DELETE CASCADE;


--
-- Name: analysis_sections fk_analysis_sections_section_id_sections; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analysis_sections
    ADD CONSTRAINT fk_analysis_sections_section_id_sections FOREIGN KEY (section_id) REFERENCES public.sections(id) ON DELETE CASCADE;


--
-- Name: enrollments fk_enrollments_section_id_sections; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollments
    ADD CONSTRAINT fk_enrollments_section_id_sections FOREIGN KEY (section_id) REFERENCES public.sections(id) ON DELETE CASCADE;


--
-- Name: enrollments fk_enrollments_source_file_id_source_files; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollments
    ADD CONSTRAINT fk_enrollments_source_file_id_source_files FOREIGN KEY (source_file_id) REFERENCES public.source_files(id);


--
-- Name: enrollments fk_enrollments_student_id_students; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollments
    ADD CONSTRAINT fk_enrollments_student_id_students FOREIGN KEY (student_id) REFERENCES public.students(id);


--
-- Name: group_sections fk_group_sections_group_id_groups; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.group_sections
    ADD CONSTRAINT fk_group_sections_group_id_groups FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;


--
-- Name: group_sections fk_group_sections_section_id_sections; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.group_sections
    ADD CONSTRAINT fk_group_sections_section_id_sections FOREIGN KEY (section_id) REFERENCES public.sections(id) ON DELETE CASCADE;


--
-- Name: group_sections fk_group_sections_source_file_id_source_files; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.group_sections
    ADD CONSTRAINT fk_group_sections_source_file_id_source_files FOREIGN KEY (source_file_id) REFERENCES public.source_files(id) ON DELETE SET NULL;


--
-- Name: groups fk_groups_source_file_id_source_files; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT fk_groups_source_file_id_source_files FOREIGN KEY (source_file_id) REFERENCES public.source_files(id) ON DELETE SET NULL;


--
-- Name: list_appearances fk_list_appearances_source_file_id_source_files; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.list_appearances
    ADD CONSTRAINT fk_list_appearances_source_file_id_source_files FOREIGN KEY (source_file_id) REFERENCES public.source_files(id);


--
-- Name: list_appearances fk_list_appearances_student_id_students; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.list_appearances
    ADD CONSTRAINT fk_list_appearances_student_id_students FOREIGN KEY (student_id) REFERENCES public.students(id);


--
-- Name: performances fk_performances_analysis_id_analyses; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performances
    ADD CONSTRAINT fk_performances_analysis_id_analyses FOREIGN KEY (analysis_id) REFERENCES public.analyses(id) ON DELETE CASCADE;


--
-- Name: performances fk_performances_section_id_sections; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performances
    ADD CONSTRAINT fk_performances_section_id_sections FOREIGN KEY (section_id) REFERENCES public.sections(id) ON DELETE CASCADE;


--
-- Name: performances fk_performances_student_id_students; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.performances
    ADD CONSTRAINT fk_performances_student_id_students FOREIGN KEY (student_id) REFERENCES public.students(id);


--
-- Name: run_groups fk_run_groups_group_id_groups; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.run_groups
    ADD CONSTRAINT fk_run_groups_group_id_groups FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;


--
-- Name: run_groups fk_run_groups_run_id_runs; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.run_groups
    ADD CONSTRAINT fk_run_groups_run_id_runs FOREIGN KEY (run_id) REFERENCES public.runs(id) ON DELETE CASCADE;


--
-- Name: run_groups fk_run_groups_source_file_id_source_files; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.run_groups
    ADD CONSTRAINT fk_run_groups_source_file_id_source_files FOREIGN KEY (source_file_id) REFERENCES public.source_files(id) ON DELETE SET NULL;


--
-- Name: runs fk_runs_source_file_id_source_files; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.runs
    ADD CONSTRAINT fk_runs_source_file_id_source_files FOREIGN KEY (source_file_id) REFERENCES public.source_files(id) ON DELETE SET NULL;


--
-- Name: sections fk_sections_source_file_id_source_files; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sections
    ADD CONSTRAINT fk_sections_source_file_id_source_files FOREIGN KEY (source_file_id) REFERENCES public.source_files(id) ON DELETE SET NULL;


--
-- Name: students fk_students_source_file_id_source_files; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.students
    ADD CONSTRAINT fk_students_source_file_id_source_files FOREIGN KEY (source_file_id) REFERENCES public.source_files(id) ON DELETE SET NULL;


--
-- Name: zscores fk_zscores_analysis_id_analyses; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.zscores
    ADD CONSTRAINT fk_zscores_analysis_id_analyses FOREIGN KEY (analysis_id) REFERENCES public.analyses(id) ON DELETE CASCADE;


--
-- Name: zscores fk_zscores_group_id_groups; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.zscores
    ADD CONSTRAINT fk_zscores_group_id_groups FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;


--
-- Name: zscores fk_zscores_section_id_sections; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.zscores
    ADD CONSTRAINT fk_zscores_section_id_sections FOREIGN KEY (section_id) REFERENCES public.sections(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict tzvadx2EYUn56G8DcWfq6xNCXKhVWruCGRr8ZFgal0w8bfn9K6AUmR3sTlIQjTa

