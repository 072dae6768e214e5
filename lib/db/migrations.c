/* SPDX-License-Identifier: Apache-2.0
 * Schema migrations, oldest first; version N is ims_migrations[N-1]. Never
 * edit a released migration: add one. SQL is kept portable between SQLite
 * and PostgreSQL (BIGINT epoch seconds for times, VARCHAR/TEXT, no engine
 * specific types or defaults). */
#include "db-int.h"

const char *const ims_migrations[] = {
    /* 1: identity and images */
    "CREATE TABLE domains ("
    "  id VARCHAR(64) PRIMARY KEY,"
    "  name VARCHAR(255) NOT NULL UNIQUE,"
    "  enabled INTEGER NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE projects ("
    "  id VARCHAR(64) PRIMARY KEY,"
    "  domain_id VARCHAR(64) NOT NULL REFERENCES domains(id),"
    "  name VARCHAR(255) NOT NULL,"
    "  region VARCHAR(64) NOT NULL,"
    "  enabled INTEGER NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  UNIQUE (domain_id, name));"
    "CREATE TABLE users ("
    "  id VARCHAR(64) PRIMARY KEY,"
    "  domain_id VARCHAR(64) NOT NULL REFERENCES domains(id),"
    "  name VARCHAR(255) NOT NULL,"
    "  password_hash VARCHAR(255),"
    "  default_project_id VARCHAR(64),"
    "  enabled INTEGER NOT NULL,"
    "  failed_logins INTEGER NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  UNIQUE (domain_id, name));"
    "CREATE TABLE role_assignments ("
    "  user_id VARCHAR(64) NOT NULL REFERENCES users(id),"
    "  project_id VARCHAR(64) NOT NULL REFERENCES projects(id),"
    "  role VARCHAR(64) NOT NULL,"
    "  PRIMARY KEY (user_id, project_id, role));"
    "CREATE TABLE revoked_tokens ("
    "  token_id VARCHAR(64) PRIMARY KEY,"
    "  expires_at BIGINT NOT NULL);"
    "CREATE TABLE images ("
    "  id VARCHAR(36) PRIMARY KEY,"
    "  owner VARCHAR(64) NOT NULL,"
    "  name VARCHAR(255),"
    "  status VARCHAR(16) NOT NULL,"
    "  visibility VARCHAR(16) NOT NULL,"
    "  protected INTEGER NOT NULL,"
    "  os_hidden INTEGER NOT NULL,"
    "  container_format VARCHAR(32),"
    "  disk_format VARCHAR(32),"
    "  size BIGINT,"
    "  virtual_size BIGINT,"
    "  checksum VARCHAR(32),"
    "  os_hash_algo VARCHAR(64),"
    "  os_hash_value VARCHAR(128),"
    "  min_disk BIGINT NOT NULL,"
    "  min_ram BIGINT NOT NULL,"
    "  enterprise_project_id VARCHAR(64) NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  location VARCHAR(255));"
    "CREATE INDEX images_created ON images (created_at, id);"
    "CREATE INDEX images_owner ON images (owner, created_at);"
    "CREATE INDEX images_name ON images (name);"
    "CREATE INDEX images_visibility ON images (visibility);"
    "CREATE INDEX images_location ON images (location);"
    "CREATE TABLE image_properties ("
    "  image_id VARCHAR(36) NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  name VARCHAR(255) NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (image_id, name));"
    "CREATE INDEX image_properties_name_value ON image_properties (name, value);"
    "CREATE TABLE image_tags ("
    "  image_id VARCHAR(36) NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  value VARCHAR(255) NOT NULL,"
    "  PRIMARY KEY (image_id, value));"
    "CREATE INDEX image_tags_value ON image_tags (value);"
    "CREATE TABLE image_members ("
    "  image_id VARCHAR(36) NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  member VARCHAR(64) NOT NULL,"
    "  status VARCHAR(16) NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (image_id, member));"
    "CREATE INDEX image_members_member ON image_members (member, status);",

    /* 2: IAM — groups, enterprise projects, policies and their grants */
    "ALTER TABLE users ADD COLUMN is_root INTEGER NOT NULL DEFAULT 0;"
    "UPDATE users SET is_root = 1 WHERE domain_id = 'default' AND name = 'admin';"
    "CREATE TABLE groups ("
    "  id VARCHAR(64) PRIMARY KEY,"
    "  domain_id VARCHAR(64) NOT NULL REFERENCES domains(id),"
    "  name VARCHAR(128) NOT NULL,"
    "  description VARCHAR(255) NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  UNIQUE (domain_id, name));"
    "CREATE TABLE group_members ("
    "  group_id VARCHAR(64) NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  user_id VARCHAR(64) NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (group_id, user_id));"
    "CREATE INDEX group_members_user ON group_members (user_id);"
    "CREATE TABLE enterprise_projects ("
    "  id VARCHAR(64) PRIMARY KEY,"
    "  domain_id VARCHAR(64),"
    "  name VARCHAR(64) NOT NULL,"
    "  description VARCHAR(512) NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  type VARCHAR(16) NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX enterprise_projects_name ON enterprise_projects (domain_id, name);"
    "INSERT INTO enterprise_projects (id, domain_id, name, description, status, type, created_at, updated_at) "
    "  VALUES ('0', NULL, 'default', 'The default enterprise project', 1, 'prod', 0, 0);"
    "CREATE TABLE policies ("
    "  id VARCHAR(64) PRIMARY KEY,"
    "  domain_id VARCHAR(64),"
    "  name VARCHAR(128) NOT NULL,"
    "  display_name VARCHAR(128) NOT NULL,"
    "  description VARCHAR(1000) NOT NULL,"
    "  type VARCHAR(16) NOT NULL,"
    "  document TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX policies_name ON policies (domain_id, display_name);"
    "CREATE TABLE grants ("
    "  group_id VARCHAR(64) NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
    "  policy_id VARCHAR(64) NOT NULL REFERENCES policies(id) ON DELETE CASCADE,"
    "  scope_type VARCHAR(24) NOT NULL,"
    "  scope_id VARCHAR(64) NOT NULL,"
    "  PRIMARY KEY (group_id, policy_id, scope_type, scope_id));"
    "CREATE INDEX grants_policy ON grants (policy_id);"
    /* Bumped by every IAM change, so caches of decisions know when to drop. */
    "CREATE TABLE iam_generation (id INTEGER PRIMARY KEY, value BIGINT NOT NULL);"
    "INSERT INTO iam_generation (id, value) VALUES (1, 1);",

    /* 3: login lockout after repeated password failures */
    "ALTER TABLE users ADD COLUMN locked_until BIGINT NOT NULL DEFAULT 0;",

    /* 4: descriptions the IAM management API shows for users and projects */
    "ALTER TABLE users ADD COLUMN description VARCHAR(255) NOT NULL DEFAULT '';"
    "ALTER TABLE projects ADD COLUMN description VARCHAR(255) NOT NULL DEFAULT '';",

    /* 5: asynchronous jobs (lib/jobs/): times in milliseconds since the
     * epoch (0 = not yet); lease_owner/lease_expires say which process runs
     * a RUNNING job and until when, so a dead worker's job is taken again. */
    "CREATE TABLE jobs ("
    "  id VARCHAR(64) PRIMARY KEY,"
    "  project_id VARCHAR(64) NOT NULL,"
    "  job_type VARCHAR(64) NOT NULL,"
    "  status VARCHAR(16) NOT NULL,"
    "  entities TEXT NOT NULL,"
    "  error_code VARCHAR(32),"
    "  fail_reason TEXT,"
    "  request TEXT NOT NULL,"
    "  progress BIGINT NOT NULL,"
    "  attempts BIGINT NOT NULL,"
    "  lease_owner VARCHAR(64),"
    "  lease_expires BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  begin_time BIGINT NOT NULL,"
    "  end_time BIGINT NOT NULL);"
    "CREATE INDEX jobs_claim ON jobs (status, lease_expires);"
    "CREATE INDEX jobs_end ON jobs (status, end_time);",

    /* 6: per-project image quotas (imsctl quota set); others use [images] quota_default */
    "CREATE TABLE image_quotas ("
    "  project_id VARCHAR(64) PRIMARY KEY,"
    "  quota BIGINT NOT NULL);",

    /* 7: page by name without sorting the catalogue (the list's sort
     * expression for name, with its tiebreakers) */
    "CREATE INDEX images_name_order ON images (COALESCE(name, ''), created_at, id);",

    /* 8: the IMS attributes every image carries move from image_properties
     * rows into columns of images (repo_images.c: promoted[]): a create wrote
     * ten property rows and a list page read 250; images.extras counts the
     * image's remaining property and tag rows (the tags are taken out again
     * by the data step, which fills images.tags_text: a copy of the tags
     * for reading, so reads skip image_tags and, without custom properties,
     * image_properties too); image_tags carries its image's (immutable)
     * created_at so a tag filter walks the tag's images in the default
     * order and stops at the page; images_owner gains id, so a list of
     * one project's images (IMS __imagetype=private) walks it in the list's
     * order instead of sorting each created_at second's images; and a
     * per-project image
     * count kept in the same transaction as the insert or delete, so the
     * quota check is one row, not a COUNT over the project's images. */
    "ALTER TABLE images ADD COLUMN p_imagetype TEXT;"
    "ALTER TABLE images ADD COLUMN p_isregistered TEXT;"
    "ALTER TABLE images ADD COLUMN p_os_type TEXT;"
    "ALTER TABLE images ADD COLUMN p_platform TEXT;"
    "ALTER TABLE images ADD COLUMN p_os_bit TEXT;"
    "ALTER TABLE images ADD COLUMN p_virtual_env_type TEXT;"
    "ALTER TABLE images ADD COLUMN p_image_source_type TEXT;"
    "ALTER TABLE images ADD COLUMN p_image_size TEXT;"
    "ALTER TABLE images ADD COLUMN p_is_config_init TEXT;"
    "ALTER TABLE images ADD COLUMN p_os_version TEXT;"
    "UPDATE images SET p_imagetype = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__imagetype');"
    "UPDATE images SET p_isregistered = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__isregistered');"
    "UPDATE images SET p_os_type = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__os_type');"
    "UPDATE images SET p_platform = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__platform');"
    "UPDATE images SET p_os_bit = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__os_bit');"
    "UPDATE images SET p_virtual_env_type = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = 'virtual_env_type');"
    "UPDATE images SET p_image_source_type = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__image_source_type');"
    "UPDATE images SET p_image_size = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__image_size');"
    "UPDATE images SET p_is_config_init = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__is_config_init');"
    "UPDATE images SET p_os_version = (SELECT value FROM image_properties p WHERE p.image_id = images.id AND p.name = '__os_version');"
    "UPDATE images SET p_imagetype = 'shared' WHERE p_imagetype = 'private' AND "
    "EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id);"
    "DELETE FROM image_properties WHERE name IN ('__imagetype', '__isregistered', '__os_type', '__platform', '__os_bit', 'virtual_env_type', '__image_source_type', '__image_size', '__is_config_init', '__os_version');"
    "ALTER TABLE images ADD COLUMN extras INTEGER NOT NULL DEFAULT 0;"
    "UPDATE images SET extras = (SELECT COUNT(*) FROM image_properties p WHERE p.image_id = images.id) + "
    "(SELECT COUNT(*) FROM image_tags t WHERE t.image_id = images.id);"
    "ALTER TABLE images ADD COLUMN tags_text TEXT;"
    "ALTER TABLE image_tags ADD COLUMN created_at BIGINT;"
    "UPDATE image_tags SET created_at = (SELECT i.created_at FROM images i WHERE i.id = image_tags.image_id);"
    "DROP INDEX image_tags_value;"
    "CREATE INDEX image_tags_order ON image_tags (value, created_at, image_id);"
    "DROP INDEX images_owner;"
    "CREATE INDEX images_owner ON images (owner, created_at, id);"
    "CREATE TABLE project_image_counts ("
    "  project_id VARCHAR(64) PRIMARY KEY,"
    "  n BIGINT NOT NULL);"
    "INSERT INTO project_image_counts (project_id, n) SELECT owner, COUNT(*) FROM images GROUP BY owner;",
    /* 9: tokens_valid_after: a password change ends the tokens issued before it
     * (epoch microseconds). login_failures: failed logins in a row and the
     * lock they led to, per user and source address, so nobody locks a user
     * out from an address that is not theirs. */
    "ALTER TABLE users ADD COLUMN tokens_valid_after BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE login_failures ("
    "  user_id VARCHAR(64) NOT NULL,"
    "  source VARCHAR(64) NOT NULL,"
    "  failures BIGINT NOT NULL,"
    "  locked_until BIGINT NOT NULL,"
    "  PRIMARY KEY (user_id, source));",
    /* 10: revision: raised by every change of an image (its row, properties,
     * tags or members), so a write can be made on condition that the image
     * is still the one that was read. upload_id: the upload that moved the
     * image to saving; only that upload may commit or give it back. */
    "ALTER TABLE images ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE images ADD COLUMN upload_id VARCHAR(36);",
    /* 11: a revision on every IAM entity and job, raised by every change of
     * it in the transaction of the change: a writer that read a row can
     * write on condition that it is still the row it read (jobs: the claim
     * a worker holds). */
    "ALTER TABLE users ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE projects ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE domains ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE groups ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE enterprise_projects ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE policies ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;",

    /* 12: image locations name their store (file://<2 hex>/<uuid>), so
     * stores can be mixed and data moved between them; before, a location
     * was the file store's relative path. */
    "UPDATE images SET location = 'file://' || location "
    "WHERE location IS NOT NULL AND location NOT LIKE '%://%';",

    /* 13: an upload's owner (the process writing it, ims_process_owner)
     * and its lease (epoch seconds), renewed while it runs: several
     * processes share the database, and start-up recovery returns to
     * queued only uploads whose owner is gone or whose lease ran out. */
    "ALTER TABLE images ADD COLUMN upload_owner VARCHAR(64);"
    "ALTER TABLE images ADD COLUMN upload_expires BIGINT;",

    /* 14: the compute inventory (lib/compute/inventory.c): servers, their
     * volumes in order (position 0 is the system disk; a detached volume
     * has no server and no position) and backups with the copies of their
     * server's volumes. disk is an absolute path or "bucket:object". A
     * server's revision is raised by every change of it or of which
     * volumes it has, so a backup is recorded only for the volumes it
     * copied. */
    "CREATE TABLE servers ("
    "  id VARCHAR(36) PRIMARY KEY,"
    "  project_id VARCHAR(64) NOT NULL,"
    "  name VARCHAR(255) NOT NULL,"
    "  os_version VARCHAR(255),"
    "  state VARCHAR(16) NOT NULL,"
    "  firmware VARCHAR(8) NOT NULL,"
    "  ram_mb BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  revision BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX servers_project ON servers (project_id, created_at);"
    "CREATE TABLE volumes ("
    "  id VARCHAR(36) PRIMARY KEY,"
    "  project_id VARCHAR(64) NOT NULL,"
    "  server_id VARCHAR(36),"
    "  position BIGINT,"
    "  size BIGINT NOT NULL,"
    "  disk TEXT NOT NULL,"
    "  format VARCHAR(16),"
    "  created_at BIGINT NOT NULL,"
    "  revision BIGINT NOT NULL DEFAULT 0,"
    "  UNIQUE (server_id, position));"
    "CREATE INDEX volumes_project ON volumes (project_id, created_at);"
    "CREATE TABLE backups ("
    "  id VARCHAR(36) PRIMARY KEY,"
    "  server_id VARCHAR(36) NOT NULL,"
    "  project_id VARCHAR(64) NOT NULL,"
    "  server_name VARCHAR(255) NOT NULL,"
    "  os_version VARCHAR(255),"
    "  firmware VARCHAR(8) NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  revision BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX backups_project ON backups (project_id, created_at);"
    "CREATE TABLE backup_volumes ("
    "  backup_id VARCHAR(36) NOT NULL,"
    "  position BIGINT NOT NULL,"
    "  volume_id VARCHAR(36) NOT NULL,"
    "  size BIGINT NOT NULL,"
    "  disk TEXT NOT NULL,"
    "  format VARCHAR(16),"
    "  PRIMARY KEY (backup_id, position));",

    /* 15: Keystone role assignments (admin, member, reader) of users and
     * groups on projects and domains (lib/db/repo_assignments.c), beside
     * the IAM policy grants; the users' project roles move over. */
    "CREATE TABLE assignments ("
    "  actor_type VARCHAR(8) NOT NULL,"
    "  actor_id VARCHAR(64) NOT NULL,"
    "  target_type VARCHAR(8) NOT NULL,"
    "  target_id VARCHAR(64) NOT NULL,"
    "  role VARCHAR(64) NOT NULL,"
    "  PRIMARY KEY (actor_type, actor_id, target_type, target_id, role));"
    "CREATE INDEX assignments_target ON assignments (target_type, target_id);"
    "INSERT INTO assignments (actor_type, actor_id, target_type, target_id, role) "
    "  SELECT 'user', user_id, 'project', project_id, role FROM role_assignments;"
    "DROP TABLE role_assignments;",

    /* 16: Glance's metadata definitions (lib/db/repo_metadefs.c). A
     * namespace is keyed by an id of its own, so renaming it touches one
     * row; its revision is raised by every change of it or of what it
     * holds (objects, properties, tags, resource type associations), and
     * every write is conditional on the revision it read. Property
     * definitions and an object's properties are canonical JSON text
     * (lib/query/metadef.c). The resource types Glance's own migration
     * seeds are there from the start, protected (the data step:
     * ims_repo_md_seed_resource_types). */
    "CREATE TABLE metadef_namespaces ("
    "  id VARCHAR(36) PRIMARY KEY,"
    "  namespace VARCHAR(80) NOT NULL UNIQUE,"
    "  display_name VARCHAR(80),"
    "  description TEXT,"
    "  visibility VARCHAR(32) NOT NULL,"
    "  protected INTEGER NOT NULL,"
    "  owner VARCHAR(255) NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  revision BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX metadef_namespaces_created ON metadef_namespaces (created_at, namespace);"
    "CREATE TABLE metadef_objects ("
    "  namespace_id VARCHAR(36) NOT NULL,"
    "  name VARCHAR(255) NOT NULL,"
    "  description TEXT,"
    "  required TEXT,"
    "  properties TEXT,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (namespace_id, name));"
    "CREATE TABLE metadef_properties ("
    "  namespace_id VARCHAR(36) NOT NULL,"
    "  name VARCHAR(255) NOT NULL,"
    "  json_schema TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (namespace_id, name));"
    "CREATE TABLE metadef_tags ("
    "  namespace_id VARCHAR(36) NOT NULL,"
    "  name VARCHAR(255) NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (namespace_id, name));"
    "CREATE TABLE metadef_resource_types ("
    "  name VARCHAR(80) PRIMARY KEY,"
    "  protected INTEGER NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE TABLE metadef_namespace_resource_types ("
    "  namespace_id VARCHAR(36) NOT NULL,"
    "  resource_type VARCHAR(80) NOT NULL,"
    "  prefix VARCHAR(80),"
    "  properties_target VARCHAR(80),"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (namespace_id, resource_type));"
    "CREATE INDEX metadef_nrt_type ON metadef_namespace_resource_types (resource_type);",

    /* 17: every image-list filter and sort key answered from an index in the
     * list's order (repo_images.c: sort_expr), so a page costs its rows
     * whatever the filter matches: each column the two list APIs filter or
     * sort on leads an index ending in the tiebreakers (created_at, id);
     * nullable columns as the list sorts them (COALESCE), which the filters
     * use too. images_name (name) gives way to images_name_order (7). */
    "DROP INDEX images_visibility;"
    "DROP INDEX images_name;"
    "CREATE INDEX images_visibility ON images (visibility, created_at, id);"
    "CREATE INDEX images_status ON images (status, created_at, id);"
    "CREATE INDEX images_ep ON images (enterprise_project_id, created_at, id);"
    "CREATE INDEX images_container_format ON images (COALESCE(container_format, ''), created_at, id);"
    "CREATE INDEX images_disk_format ON images (COALESCE(disk_format, ''), created_at, id);"
    "CREATE INDEX images_checksum ON images (COALESCE(checksum, ''), created_at, id);"
    "CREATE INDEX images_os_hash_algo ON images (COALESCE(os_hash_algo, ''), created_at, id);"
    "CREATE INDEX images_os_hash_value ON images (COALESCE(os_hash_value, ''), created_at, id);"
    "CREATE INDEX images_size ON images (COALESCE(size, -1), created_at, id);"
    "CREATE INDEX images_virtual_size ON images (COALESCE(virtual_size, -1), created_at, id);"
    "CREATE INDEX images_updated ON images (updated_at, created_at, id);"
    "CREATE INDEX images_protected ON images (protected, created_at, id);"
    "CREATE INDEX images_os_hidden ON images (os_hidden, created_at, id);"
    "CREATE INDEX images_min_disk ON images (min_disk, created_at, id);"
    "CREATE INDEX images_min_ram ON images (min_ram, created_at, id);"
    "CREATE INDEX images_p_image_size ON images (p_image_size, created_at, id);"
    "CREATE INDEX images_p_image_source_type ON images (p_image_source_type, created_at, id);"
    "CREATE INDEX images_p_imagetype ON images (p_imagetype, created_at, id);"
    "CREATE INDEX images_p_is_config_init ON images (p_is_config_init, created_at, id);"
    "CREATE INDEX images_p_isregistered ON images (p_isregistered, created_at, id);"
    "CREATE INDEX images_p_os_bit ON images (p_os_bit, created_at, id);"
    "CREATE INDEX images_p_os_type ON images (p_os_type, created_at, id);"
    "CREATE INDEX images_p_os_version ON images (p_os_version, created_at, id);"
    "CREATE INDEX images_p_platform ON images (p_platform, created_at, id);"
    "CREATE INDEX images_p_virtual_env_type ON images (p_virtual_env_type, created_at, id);",
    /* 18: blobs, reference-counted across processes: refs is the number of
     * images whose location it is (kept by the image writes, in their
     * transactions); writer is the process still writing it and
     * lease_until how long that process's claim holds (renewed while it
     * lives). Only a row with refs = 0 and no live writer is collected. */
    "CREATE TABLE blobs ("
    "  location VARCHAR(255) PRIMARY KEY,"
    "  refs BIGINT NOT NULL,"
    "  writer VARCHAR(128),"
    "  lease_until BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE INDEX blobs_writer ON blobs (writer);"
    "CREATE INDEX blobs_unreferenced ON blobs (refs, lease_until);"
    "INSERT INTO blobs (location, refs, writer, lease_until, created_at) "
    "SELECT location, COUNT(*), NULL, 0, 0 FROM images WHERE location IS NOT NULL GROUP BY location;",
    /* 19: every index of images costs each insert a page written at
     * commit, so only the indexes a query uses, over the rows it can
     * match. images_location (1) served no query since blob references
     * are counted in blobs (18). checksum, os_hash_algo and os_hash_value
     * are filters only (no sort key), NULL until the image has data, and
     * their filters never match NULL (repo_images.c add_filter says IS NOT
     * NULL): indexed over the rows that have them, a create writes none. */
    "DROP INDEX images_location;"
    "DROP INDEX images_checksum;"
    "DROP INDEX images_os_hash_algo;"
    "DROP INDEX images_os_hash_value;"
    "CREATE INDEX images_checksum ON images (COALESCE(checksum, ''), created_at, id) WHERE checksum IS NOT NULL;"
    "CREATE INDEX images_os_hash_algo ON images (COALESCE(os_hash_algo, ''), created_at, id) "
    "WHERE os_hash_algo IS NOT NULL;"
    "CREATE INDEX images_os_hash_value ON images (COALESCE(os_hash_value, ''), created_at, id) "
    "WHERE os_hash_value IS NOT NULL;",
    /* 20: a project's image count split over slots (repo_counts.c): a
     * create adds to the slot its id hashes to, so concurrent creates of a
     * project lock different rows instead of all waiting for one (on
     * PostgreSQL they committed one at a time, Run Y); the count is the
     * sum. The counts so far move to slot 0. */
    "CREATE TABLE project_image_slots ("
    "  project_id VARCHAR(64) NOT NULL,"
    "  slot INTEGER NOT NULL,"
    "  n BIGINT NOT NULL,"
    "  PRIMARY KEY (project_id, slot));"
    "INSERT INTO project_image_slots (project_id, slot, n) SELECT project_id, 0, n FROM project_image_counts;"
    "DROP TABLE project_image_counts;"
    "ALTER TABLE project_image_slots RENAME TO project_image_counts;",
    /* 21: a project's delete unsets the default_project_id of the users
     * that name it (repo_identity.c), found by this index over the users
     * that have one. Its data step gives the policies that share an
     * internal name with an older one of their account names of their own
     * (ims_repo_policies_rename_duplicates), for 22. */
    "CREATE INDEX users_default_project ON users (default_project_id) WHERE default_project_id IS NOT NULL;",
    /* 22: a custom policy's internal name (custom_<account>_<n>) is its
     * account's alone; system policies (no account) are one row each by
     * their id. */
    "CREATE UNIQUE INDEX policies_internal_name ON policies (domain_id, name);",
    /* 23: image_properties carry their image's (immutable) created_at, as
     * image_tags do since 8, indexed after (name, value): a custom property
     * few images have drives the default order's list from that index and
     * stops at the page, instead of collecting every image that has it and
     * sorting them (200 rows a page at 0.2 % of 100,000 images). The index
     * replaces the (name, value) one, its prefix. */
    "ALTER TABLE image_properties ADD COLUMN created_at BIGINT;"
    "UPDATE image_properties SET created_at = "
    "(SELECT i.created_at FROM images i WHERE i.id = image_properties.image_id);"
    "DROP INDEX image_properties_name_value;"
    "CREATE INDEX image_properties_order ON image_properties (name, value, created_at, image_id);",
    /* 24: the images whose data a location is (ims_repo_blob_holders: a
     * tenant's location PATCH checks each may be read) found by an index
     * over the images that have data, instead of a walk of the catalogue
     * per PATCH; a create, whose image has no location yet, writes none of
     * it (19's concern). */
    "CREATE INDEX images_location_set ON images (location) WHERE location IS NOT NULL;",
    /* 25: __imagetype, __isregistered and __image_source_type are system
     * attributes (lib/core/image.c): every image imsd makes has private,
     * true and uds, so their indexes held an entry per image that only a
     * filter matching nearly every image could read, and each create wrote
     * a leaf of each. Indexed now over the rows with another value (a
     * filter on one names the condition, repo_images.c add_filter); a
     * filter on the common value walks the list's order, where nearly
     * every image matches. */
    "DROP INDEX images_p_imagetype;"
    "DROP INDEX images_p_isregistered;"
    "DROP INDEX images_p_image_source_type;"
    "CREATE INDEX images_p_imagetype ON images (p_imagetype, created_at, id) WHERE p_imagetype <> 'private';"
    "CREATE INDEX images_p_isregistered ON images (p_isregistered, created_at, id) WHERE p_isregistered <> 'true';"
    "CREATE INDEX images_p_image_source_type ON images (p_image_source_type, created_at, id) "
    "WHERE p_image_source_type <> 'uds';",
    /* 26: an image's custom properties also in its row (props_text, as its
     * tags in tags_text since 8; filled by the data step), so reading a
     * list page reads no image_properties rows: at 100,000 images a page
     * at a random marker read them for nearly all of its images (the
     * rendered-document cache holds a tenth of them), a fifth of its CPU.
     * The rows stay: they serve the property filters. */
    "ALTER TABLE images ADD COLUMN props_text TEXT;",
    /* 27: a blob's digests once read (md5, sha512), for a location that
     * names data whose holders have none (full-ECS images from backups):
     * a second location request reads them instead of the whole blob
     * again. hasher is the process reading it now (ims_process_owner),
     * its claim held until hash_until (renewed while it lives), so
     * concurrent requests do not each read it (image_locations.c); or
     * IMS_BLOB_HASH_FAILED until hash_until: the reading failed lately. */
    "ALTER TABLE blobs ADD COLUMN md5 VARCHAR(32);"
    "ALTER TABLE blobs ADD COLUMN sha512 VARCHAR(128);"
    "ALTER TABLE blobs ADD COLUMN hasher VARCHAR(128);"
    "ALTER TABLE blobs ADD COLUMN hash_until BIGINT;",
};

const size_t ims_nmigrations = IMS_ARRAY_SIZE(ims_migrations);

/* A migration that makes a table adds it here (tests/unit/test_db_copy.c
 * compares this list with the schema). */
const char *const ims_tables[] = {
    "domains", "projects", "users", "revoked_tokens", "login_failures",
    "images", "image_properties", "image_tags", "image_members", "image_quotas", "project_image_counts",
    "groups", "group_members", "assignments", "enterprise_projects", "policies", "grants", "iam_generation",
    "jobs", "servers", "volumes", "backups", "backup_volumes",
    "metadef_namespaces", "metadef_objects", "metadef_properties", "metadef_tags", "metadef_resource_types",
    "metadef_namespace_resource_types", "blobs",
};
const size_t ims_ntables = IMS_ARRAY_SIZE(ims_tables);

/* Data steps run after a migration's SQL, in its transaction (version - 1
 * as index; NULL: none). */
enum ims_rc (*const ims_migration_data_steps[IMS_ARRAY_SIZE(ims_migrations)])(struct ims_dbc *,
                                                                             struct ims_err *) = {
    [7] = ims_repo_images_backfill_tags_text,
    [15] = ims_repo_md_seed_resource_types,
    [20] = ims_repo_policies_rename_duplicates,
    [25] = ims_repo_images_backfill_props_text,
};
