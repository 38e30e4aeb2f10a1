//! Photos: processed into `<picture>`s at a few widths, with no metadata
//! left in any output image, and left out wherever consent has ended.
//!
//! The photos are made here: a JPEG with GPS coordinates, a camera make and
//! an EXIF orientation, written byte by byte, so the test knows exactly what
//! must not survive.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{self, Site};

/// An EXIF block (little-endian TIFF) with a camera make, an orientation
/// and a GPS latitude, as a camera writes them.
fn exif_block(orientation: u16) -> Vec<u8> {
    let mut t: Vec<u8> = Vec::new();
    t.extend_from_slice(b"II\x2a\x00\x08\x00\x00\x00");
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    // IFD0 at 8: make, orientation, GPS pointer.
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x010F, 2, 8, 80);
    entry(&mut t, 0x0112, 3, 1, u32::from(orientation));
    entry(&mut t, 0x8825, 4, 1, 50);
    t.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 50: latitude reference and latitude.
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"S\0\0\0"));
    entry(&mut t, 0x0002, 5, 3, 88);
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len(), 80);
    t.extend_from_slice(b"TestCam\0");
    for (n, d) in [(1u32, 1u32), (17, 1), (30, 1)] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + t.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&t);
    app1
}

/// A `width` × `height` JPEG of a gradient, carrying [`exif_block`].
fn camera_jpeg(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 120])
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 80)
        .encode_image(&img)
        .unwrap();
    // After SOI (FF D8).
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&exif_block(orientation));
    out.extend_from_slice(&plain[2..]);
    out
}

fn has_exif(bytes: &[u8]) -> bool {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .is_ok()
}

/// Runs casebook in `site` with today fixed (for consent).
fn run_on(site: &Site, today: &str, args: &[&str]) -> Output {
    let days = {
        let d = |s: &str| s.parse::<i64>().unwrap();
        let (y, m, dd) = (d(&today[..4]), d(&today[5..7]), d(&today[8..10]));
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + dd - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    };
    Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(args)
        .arg("--root")
        .arg(site.root())
        .env("NO_COLOR", "1")
        .env("SOURCE_DATE_EPOCH", (days * 86_400 + 3_600).to_string())
        .output()
        .unwrap()
}

const SITE: &str = "title = \"Photos\"\nbase_url = \"https://photos.example/\"\n";

fn photo_site() -> Site {
    let site = Site::empty(SITE);
    let bundle = site.root().join("content/case-studies/clinic");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(bundle.join("photo.jpg"), camera_jpeg(2000, 1200, 1)).unwrap();
    std::fs::create_dir_all(site.root().join("static/images")).unwrap();
    // Stored 200 × 100, shown turned a quarter: 100 × 200.
    std::fs::write(
        site.root().join("static/images/portrait.jpg"),
        camera_jpeg(200, 100, 6),
    )
    .unwrap();
    site.write(
        "content/case-studies/clinic/index.md",
        "---\ntitle: The clinic opens\ndate: 2025-01-10\nsummary: A clinic opens.\nngo: Clinic Trust\nsector: Health\nprogram: Clinics\ncountry: Kenya\n\
         image: photo.jpg\nimage_alt: The clinic's waiting room on its first morning\n\
         image_caption: The first morning.\nimage_credit: A. Photographer\n---\n\n\
         The clinic opened.\n\n![A nurse at the front desk](/images/portrait.jpg)\n",
    );
    site
}

#[test]
fn photos_become_pictures_at_several_widths_with_no_metadata_left() {
    let site = photo_site();
    let source = std::fs::read(site.root().join("content/case-studies/clinic/photo.jpg")).unwrap();
    let gps = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(&source))
        .unwrap();
    assert!(
        gps.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
            .is_some(),
        "the test photo carries GPS"
    );
    // Another file beside the page is published beside it.
    std::fs::write(
        site.root().join("content/case-studies/clinic/report.pdf"),
        b"%PDF-1.4 a report",
    )
    .unwrap();
    let out = run_on(&site, "2026-01-01", &["build"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        std::fs::read(site.out().join("case-studies/clinic/report.pdf")).unwrap(),
        b"%PDF-1.4 a report"
    );
    let page = site.read("case-studies/clinic/index.html");

    // The lead photo: WebP and JPEG at 480, 960 and 1600 (not 2000: the
    // largest width asked for), its size given, loaded first.
    let lead = page
        .split("<figure class=\"lead-photo\">")
        .nth(1)
        .expect("a lead photo")
        .split("</figure>")
        .next()
        .unwrap();
    for w in [480, 960, 1600] {
        assert!(lead.contains(&format!(".{w}.webp {w}w")), "{lead}");
        assert!(lead.contains(&format!(".{w}.jpg {w}w")), "{lead}");
    }
    assert!(!lead.contains("2000"), "{lead}");
    assert!(lead.contains("width=\"1600\" height=\"960\""), "{lead}");
    assert!(lead.contains("fetchpriority=\"high\"") && !lead.contains("loading=\"lazy\""));
    assert!(lead.contains("<figcaption>The first morning. <span class=\"credit\">Photo: A. Photographer</span></figcaption>"), "{lead}");
    // The photo in the text: turned upright (100 × 200), never made wider
    // than it is, loaded lazily.
    let body = page.split("class=\"doc-body").nth(1).unwrap();
    assert!(body.contains("width=\"100\" height=\"200\""), "{body}");
    assert!(
        body.contains(".100.webp 100w") && !body.contains(".480."),
        "{body}"
    );
    assert!(body.contains("loading=\"lazy\" decoding=\"async\""));
    // Link previews get the widest JPEG, by its full address.
    assert!(
        page.contains(
            "<meta property=\"og:image\" content=\"https://photos.example/processed-images/photo."
        ),
        "{page}"
    );
    // Cards show it too.
    assert!(
        site.read("case-studies/index.html")
            .contains("<div class=\"card-photo\"><picture>")
    );

    // Not one output image keeps EXIF, GPS or the camera's name, the
    // originals published beside the page and in /images/ included.
    let images: Vec<String> = site
        .files()
        .into_iter()
        .filter(|f| f.ends_with(".jpg") || f.ends_with(".webp") || f.ends_with(".png"))
        .collect();
    // Two photos: 3 + 1 widths in WebP and JPEG, and both originals.
    assert_eq!(images.len(), 10, "{images:?}");
    assert!(images.contains(&"case-studies/clinic/photo.jpg".to_string()));
    assert!(images.contains(&"images/portrait.jpg".to_string()));
    for f in &images {
        let bytes = std::fs::read(site.out().join(f)).unwrap();
        assert!(!has_exif(&bytes), "{f} keeps EXIF");
        assert!(
            !bytes.windows(7).any(|w| w == b"TestCam"),
            "{f} keeps the camera's name"
        );
        let img = image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{f}: {e}"));
        if f == "images/portrait.jpg" {
            // Its orientation was in the EXIF: the pixels are turned instead.
            assert_eq!((img.width(), img.height()), (100, 200), "{f}");
        }
    }
    let original = image::load_from_memory(
        &std::fs::read(site.out().join("case-studies/clinic/photo.jpg")).unwrap(),
    )
    .unwrap();
    assert_eq!((original.width(), original.height()), (2000, 1200));

    // A second build makes nothing again: the copies come from the cache.
    let cache = site.root().join(".casebook-cache");
    let stamp = |dir: &Path| -> Vec<(String, std::time::SystemTime)> {
        let mut v: Vec<_> = walkdir::WalkDir::new(dir)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path().display().to_string(),
                    e.metadata().unwrap().modified().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = stamp(&cache);
    assert_eq!(before.len(), 10, "{before:?}");
    let again = run_on(&site, "2026-01-01", &["build"]);
    assert!(again.status.success(), "{}", common::stderr(&again));
    assert_eq!(stamp(&cache), before, "the cache was written again");
}

/// A site with three stories: one whose photo's consent has ended, one
/// whose people withdrew their consent, one whose consent ends soon.
fn consent_site() -> Site {
    let site = Site::empty(SITE);
    std::fs::create_dir_all(site.root().join("static/images")).unwrap();
    for name in ["ended", "soon"] {
        std::fs::write(
            site.root().join(format!("static/images/{name}.jpg")),
            camera_jpeg(800, 600, 1),
        )
        .unwrap();
    }
    site.write(
        "content/case-studies/ended.md",
        "---\ntitle: A photo whose consent ended\ndate: 2025-01-10\nsummary: Ended.\nngo: Trust A\nsector: Health\nprogram: Clinics\ncountry: Kenya\n\
         image: /images/ended.jpg\nimage_alt: Two volunteers sorting boxes\n\
         image_consent:\n  given: 2024-01-01\n  expires: 2025-12-31\n---\n\nText.\n",
    );
    site.write(
        "content/case-studies/withdrawn.md",
        "---\ntitle: A story whose people withdrew\ndate: 2025-02-10\nsummary: Withdrawn.\nngo: Trust B\nsector: Health\nprogram: Clinics\ncountry: Kenya\n\
         consent:\n  given: 2024-01-01\n  withdrawn: true\n---\n\nText about a person.\n",
    );
    site.write(
        "content/case-studies/soon.md",
        "---\ntitle: A consent that ends soon\ndate: 2025-03-10\nsummary: Soon.\nngo: Trust C\nsector: Health\nprogram: Clinics\ncountry: Kenya\n\
         image: /images/soon.jpg\nimage_alt: A teacher at a whiteboard\n\
         image_consent:\n  given: 2024-01-01\n  expires: 2026-01-31\n  scope: [web, print]\n---\n\nText.\n",
    );
    site
}

#[test]
fn consent_that_ended_or_was_withdrawn_leaves_every_output() {
    let site = consent_site();
    let out = run_on(&site, "2026-01-01", &["build"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert!(
        err.contains("the photo `/images/ended.jpg` is left out of the site: its consent expired on 31 December 2025")
            && err.contains("content/case-studies/ended.md:9:8"),
        "{err}"
    );
    assert!(
        err.contains("this page is left out of the site: its consent was withdrawn")
            && err.contains("content/case-studies/withdrawn.md:"),
        "{err}"
    );
    let summary = common::stdout(&out);
    assert!(
        summary.contains("left out for consent: 1 case study, 1 photo"),
        "{summary}"
    );

    // The ended photo is nowhere: not on its page, its card, the link
    // preview, nor as a file.
    let page = site.read("case-studies/ended/index.html");
    assert!(
        !page.contains("<picture") && !page.contains("og:image"),
        "{page}"
    );
    assert!(!site.exists("images/ended.jpg"));
    assert!(
        !site.files().iter().any(|f| f.contains("ended.")),
        "{:?}",
        site.files()
    );
    // The withdrawn story is in no page, list, feed, sitemap or download.
    assert!(!site.exists("case-studies/withdrawn/index.html"));
    for f in site.files() {
        if f.ends_with(".html")
            || f.ends_with(".xml")
            || f.ends_with(".json")
            || f.ends_with(".csv")
        {
            let text = site.read(&f);
            assert!(
                !text.contains("people withdrew") && !text.contains("case-studies/withdrawn"),
                "{f}"
            );
        }
    }
    // Consent without social media: shown, but no link preview of it; and
    // hidden when printed? No: print is in its scope.
    let soon = site.read("case-studies/soon/index.html");
    assert!(
        soon.contains("<picture>") && !soon.contains("og:image"),
        "{soon}"
    );

    // `check` lists what ends soon, 60 days ahead by default.
    let check = run_on(&site, "2026-01-01", &["check"]);
    let err = common::stderr(&check);
    assert!(
        err.contains(
            "the consent for the photo `/images/soon.jpg` ends on 31 January 2026 (in 30 days)"
        ),
        "{err}"
    );
    // With a shorter warning period it is not mentioned yet.
    site.append("site.toml", "[consent]\nwarn_days = 10\n");
    let err = common::stderr(&run_on(&site, "2026-01-01", &["check"]));
    assert!(!err.contains("soon.jpg` ends"), "{err}");
}

#[test]
fn site_toml_can_require_consent_for_every_photo_and_story() {
    let site = photo_site();
    site.append(
        "site.toml",
        "[consent]\nrequired = true\ncase_studies = true\n",
    );
    let out = run_on(&site, "2026-01-01", &["build"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert!(
        err.contains("this case study is left out of the site: it has no consent record"),
        "{err}"
    );
    assert!(!site.exists("case-studies/clinic/index.html"));
    assert!(
        !site
            .files()
            .iter()
            .any(|f| f.ends_with(".jpg") || f.ends_with(".webp")),
        "{:?}",
        site.files()
    );
}

#[test]
fn alt_text_that_says_nothing_is_an_error_for_lead_photos_and_a_warning_in_text() {
    let site = photo_site();
    let page = site.source("content/case-studies/clinic/index.md");
    site.write(
        "content/case-studies/clinic/index.md",
        &page
            .replace(
                "image_alt: The clinic's waiting room on its first morning",
                "image_alt: photo",
            )
            .replace("![A nurse at the front desk]", "![portrait.jpg]"),
    );
    let out = run_on(&site, "2026-01-01", &["check"]);
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("error: `image_alt: photo` does not describe the photo"),
        "{err}"
    );
    assert!(
        err.contains("content/case-studies/clinic/index.md:10:1"),
        "{err}"
    );
    assert!(
        err.contains("warning: image `/images/portrait.jpg` has no alt text that describes it"),
        "{err}"
    );
}

#[test]
fn broken_consent_records_and_photos_are_reported_where_they_are() {
    let site = photo_site();
    std::fs::write(
        site.root().join("static/images/broken.jpg"),
        b"\xFF\xD8 not really a photo",
    )
    .unwrap();
    site.write(
        "content/case-studies/other.md",
        "---\ntitle: Other\ndate: 2025-01-10\nsummary: Other.\nngo: Other Trust\nsector: Health\nprogram: Clinics\ncountry: Kenya\n\
         image: /images/broken.jpg\nimage_alt: A broken photo of a field\n\
         image_consent:\n  given: 2024-02-30\n  scope: [web, radio]\n---\n\nText.\n",
    );
    let out = run_on(&site, "2026-01-01", &["check"]);
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("the photo `/images/broken.jpg` cannot be read"),
        "{err}"
    );
    assert!(err.contains("`image_consent` given"), "{err}");
    assert!(err.contains("content/case-studies/other.md:12:"), "{err}");
    assert!(
        err.contains("`radio` is not a scope casebook knows"),
        "{err}"
    );
}

#[test]
fn check_budget_weighs_each_page_as_a_phone_loads_it() {
    let site = photo_site();
    let out = run_on(&site, "2026-01-01", &["check", "--budget"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let table = common::stdout(&out);
    assert!(
        table.contains("Page weight at a 360 px phone screen, compressed; time at 400 kbps"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.ends_with(" /case-studies/clinic/"))
        .unwrap_or_else(|| panic!("{table}"));
    // Heaviest first.
    let totals: Vec<u64> = table
        .lines()
        .skip_while(|l| !l.contains("total"))
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(
        totals.len() == 10 && totals.windows(2).all(|w| w[0] >= w[1]),
        "{table}"
    );
    // total, time, html, css, js, photos (in kB), ...
    let photos_kb: u64 = row.split_whitespace().nth(9).unwrap().parse().unwrap();
    assert!(photos_kb > 0, "{row}");

    // Over a tight budget: an error naming the page, its weight, the time
    // it takes, and the photo copy a phone loads (960 wide, twice its 360).
    site.append("site.toml", "[budget]\npage_kb = 10\nkbps = 400\n");
    let out = run_on(&site, "2026-01-01", &["check", "--budget"]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    let line = err
        .lines()
        .find(|l| l.starts_with("error: /case-studies/clinic/ weighs "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.contains("over the budget of 10 kB") && line.contains(" s at 400 kbps"),
        "{line}"
    );
    assert!(
        err.contains("/processed-images/photo.") && err.contains(".960.webp ("),
        "{err}"
    );
    assert!(
        err.contains("over the page-weight budget ([budget] page_kb = 10 in site.toml)"),
        "{err}"
    );
    // Checking writes nothing into the site.
    assert!(!site.out().exists());
}

#[test]
fn each_quoted_person_has_a_consent_and_one_ending_takes_the_story_out() {
    let site = Site::empty(SITE);
    let page = "---\ntitle: Two voices\ndate: 2025-01-10\nsummary: Two people speak.\nngo: Trust D\n\
         sector: Health\nprogram: Clinics\ncountry: Kenya\n\
         consent:\n  - name: Amina\n    given: 2024-01-01\n    expires: 2026-01-20\n  - name: Joseph\n    given: 2024-01-01\n    expires: 2027-01-01\n---\n\nAmina said so; Joseph agreed.\n";
    site.write("content/case-studies/voices.md", page);
    // Amina's ends in 19 days: said, at her record; the story is shown.
    let out = run_on(&site, "2026-01-01", &["build"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert!(
        err.contains("the consent of Amina ends on 20 January 2026 (in 19 days)")
            && err.contains("content/case-studies/voices.md:10:5"),
        "{err}"
    );
    assert!(!err.contains("Joseph"), "{err}");
    assert!(site.exists("case-studies/voices/index.html"));
    // A month on, hers has ended: the whole story leaves the site.
    let out = run_on(&site, "2026-02-01", &["build"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert!(
        err.contains(
            "this page is left out of the site: Amina's consent expired on 20 January 2026"
        ),
        "{err}"
    );
    assert!(!site.exists("case-studies/voices/index.html"));
    assert!(!site.read("case-studies.json").contains("Two voices"));
}
