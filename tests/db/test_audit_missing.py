"""Audit: files missing from the folder."""

from auditkit import load, log, validate

KEEP = {"archon_projects.csv", "archon_settings.csv", "archon_prompts.csv", "archon_migrations.csv",
        "archon_llm_pricing.csv"}


def _archon(cli, tmp_path):
    folder = tmp_path / "arch"
    code, out, err = cli("sample", folder, "--profile", "archon", "--rows", "archon_crawled_pages=5")
    assert code == 0, err
    return folder


def test_profile_detection_lost_with_the_missing_high_files(archon_db, cli, tmp_path):
    folder = _archon(cli, tmp_path)
    gone = sorted(p.name for p in folder.glob("*.csv") if p.name not in KEEP)
    for name in gone:
        (folder / name).unlink()
    log("deleted", gone)
    code, loaded = load(cli, archon_db, folder, profile=None)
    log("LOAD (profile detected)", code, loaded.get("profile"), [(t["file"], t["status"]) for t in loaded["tables"]])
    code, r = validate(cli, archon_db, folder, tmp_path, profile=None)
    log("VALIDATE (profile detected)", code, r.get("profile"), r["headline"])
    # the same folder with the profile named: the HIGH files are missing
    code2, r2 = validate(cli, archon_db, folder, tmp_path, profile="archon")
    log("VALIDATE --profile archon", code2, r2["headline"])
    assert code == 1, "false green: HIGH files gone, profile detection falls back to generic, validate passes"


