//! Metadata out of published originals. A photo from a phone carries its
//! camera's serial number, the time it was taken and often GPS coordinates:
//! enough to find where the person photographed lives. The copies
//! [`super::process`] makes carry nothing; a photo published as it is
//! (`static/images/x.jpg`, a bundle's `photo.jpg`) is copied without its
//! EXIF, XMP, IPTC and comments, its pixels untouched (`img-parts` splits
//! the file into its segments; we keep only those that draw the picture
//! and its colour profile).
//!
//! A JPEG whose EXIF turns it (a portrait from a phone) would show on its
//! side once that EXIF is gone: it is decoded, turned and encoded again.

use img_parts::Bytes;

use super::Format;
use super::process;

/// JPEG markers kept: APP0 (JFIF), APP2 when it is an ICC profile, APP14
/// (Adobe's colour transform) and everything that is not an APPn or a
/// comment. APP1 is EXIF and XMP, APP13 IPTC, COM free text.
fn keep_jpeg(marker: u8, contents: &[u8]) -> bool {
    match marker {
        0xE0 | 0xEE => true,
        0xE2 => contents.starts_with(b"ICC_PROFILE\0"),
        0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
        _ => true,
    }
}

/// PNG chunks dropped: text (tEXt, zTXt, iTXt, where XMP also lives),
/// EXIF (eXIf) and the time of last change (tIME).
const PNG_DROPPED: &[&[u8; 4]] = &[b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"];

/// The least quality an original that must be encoded again is given: it
/// is the full-size file a reader downloads, so it stays near the source.
const ORIGINAL_QUALITY: u8 = 90;

/// The bytes of a photo with its metadata removed.
pub fn clean(bytes: &[u8], format: Format, quality: u8) -> Result<Vec<u8>, String> {
    match format {
        Format::Jpeg => {
            let jpeg = img_parts::jpeg::Jpeg::from_bytes(Bytes::copy_from_slice(bytes))
                .map_err(|e| e.to_string())?;
            if process::turned(bytes, format)? {
                // Turned by its EXIF: turn the pixels instead.
                let img = process::decode(bytes, format)?;
                return process::jpeg(&img, quality.max(ORIGINAL_QUALITY));
            }
            let mut jpeg = jpeg;
            jpeg.segments_mut()
                .retain(|s| keep_jpeg(s.marker(), s.contents()));
            Ok(jpeg.encoder().bytes().to_vec())
        }
        Format::Png => {
            let mut png = img_parts::png::Png::from_bytes(Bytes::copy_from_slice(bytes))
                .map_err(|e| e.to_string())?;
            png.chunks_mut()
                .retain(|c| !PNG_DROPPED.iter().any(|k| **k == c.kind()));
            Ok(png.encoder().bytes().to_vec())
        }
        Format::Webp => {
            // A WebP's EXIF and XMP chunks, and the flags that announce
            // them, are simplest gone by encoding it again.
            let img = process::decode(bytes, format)?;
            process::webp(&img, quality.max(ORIGINAL_QUALITY))
        }
    }
}
