//! Making a photo's copies: decode once, turn it as its EXIF orientation
//! says, resize to each width (never up) and encode WebP (lossy, libwebp)
//! and a JPEG or PNG fallback. Copies are written to the cache under their
//! final names, which carry a hash of the photo and the settings: a copy
//! that is there is current, and a rebuild with unchanged photos decodes
//! nothing. Photos are processed in parallel.
//!
//! Encoding from decoded pixels writes no metadata at all: EXIF, XMP, IPTC
//! and GPS never reach a copy.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fast_image_resize as fr;
use image::{DynamicImage, ImageDecoder, ImageReader};
use rayon::prelude::*;

use super::{Format, Photo};

/// The largest photo file casebook reads: a camera's full-size JPEG is
/// 5-15 MB. Larger is almost always a mistake (a TIFF scan renamed).
pub const MAX_PHOTO_BYTES: u64 = 40 * 1024 * 1024;

/// The most pixels a photo may have (a 100-megapixel camera), so that a
/// small file claiming to be 60,000 × 60,000 cannot take all the memory.
const MAX_PIXELS: u64 = 100_000_000;

fn decoder(bytes: &[u8], format: Format) -> Result<Box<dyn ImageDecoder + '_>, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(match format {
        Format::Jpeg => image::ImageFormat::Jpeg,
        Format::Png => image::ImageFormat::Png,
        Format::Webp => image::ImageFormat::WebP,
    });
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let d = reader.into_decoder().map_err(|e| e.to_string())?;
    let (w, h) = d.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "it is {w} × {h} pixels; casebook processes photos up to 100 megapixels"
        ));
    }
    Ok(Box::new(d))
}

/// A photo's width and height as shown (after its orientation) and whether
/// it has transparency, from its header alone.
pub fn dimensions(bytes: &[u8], format: Format) -> Result<(u32, u32, bool), String> {
    let mut d = decoder(bytes, format)?;
    let (w, h) = d.dimensions();
    let turned = d.orientation().is_ok_and(|o| {
        use image::metadata::Orientation::*;
        matches!(o, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
    });
    let alpha = d.color_type().has_alpha();
    Ok(if turned { (h, w, alpha) } else { (w, h, alpha) })
}

/// Whether a photo's EXIF orientation turns or flips it.
pub fn turned(bytes: &[u8], format: Format) -> Result<bool, String> {
    let mut d = decoder(bytes, format)?;
    Ok(d.orientation()
        .is_ok_and(|o| o != image::metadata::Orientation::NoTransforms))
}

/// Decodes a photo and turns it upright.
pub fn decode(bytes: &[u8], format: Format) -> Result<DynamicImage, String> {
    let mut d = decoder(bytes, format)?;
    let orientation = d
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(d).map_err(|e| e.to_string())?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Encodes pixels as JPEG at `quality`.
pub fn jpeg(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, String> {
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Encodes pixels as PNG.
pub fn png(img: &DynamicImage) -> Result<Vec<u8>, String> {
    let rgba = img.to_rgba8();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            rgba.as_raw(),
            rgba.width(),
            rgba.height(),
            image::ExtendedColorType::Rgba8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}

use image::ImageEncoder as _;

/// Makes one copy `width` pixels wide.
fn resize(img: &DynamicImage, width: u32, height: u32) -> Result<DynamicImage, String> {
    if img.width() == width && img.height() == height {
        return Ok(img.clone());
    }
    let src = if img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(img.to_rgb8())
    };
    let mut dst = DynamicImage::new(width, height, src.color());
    fr::Resizer::new()
        .resize(
            &src,
            &mut dst,
            &fr::ResizeOptions::new()
                .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3)),
        )
        .map_err(|e| e.to_string())?;
    Ok(dst)
}

/// Encodes pixels as lossy WebP at `quality`, keeping transparency.
pub fn webp(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, String> {
    let encoded = if img.color().has_alpha() {
        let rgba = img.to_rgba8();
        webp::Encoder::from_rgba(rgba.as_raw(), rgba.width(), rgba.height())
            .encode(f32::from(quality))
            .to_vec()
    } else {
        let rgb = img.to_rgb8();
        webp::Encoder::from_rgb(rgb.as_raw(), rgb.width(), rgb.height())
            .encode(f32::from(quality))
            .to_vec()
    };
    if encoded.is_empty() {
        return Err("the WebP encoder failed".into());
    }
    Ok(encoded)
}

/// Writes `bytes` to `path` whole or not at all.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Makes every copy of every photo that the cache at `cache` lacks.
/// Returns the photos that failed, with why.
pub fn ensure(photos: &[Arc<Photo>], cache: &Path, quality: u8) -> Vec<(String, String)> {
    photos
        .par_iter()
        .filter_map(|p| {
            let missing: Vec<(PathBuf, u32, &str)> = p
                .copies()
                .into_iter()
                .map(|(rel, w, ext)| (cache.join(rel), w, ext))
                .filter(|(path, _, _)| !path.exists())
                .collect();
            if missing.is_empty() {
                return None;
            }
            let made = (|| -> Result<(), String> {
                let bytes = std::fs::read(&p.path).map_err(|e| e.to_string())?;
                let img = decode(&bytes, p.format)?;
                // Each width once, both formats from it.
                let mut widths: Vec<u32> = missing.iter().map(|(_, w, _)| *w).collect();
                widths.dedup();
                widths.par_iter().try_for_each(|&w| {
                    let copy = resize(&img, w, p.height_at(w))?;
                    for (path, _, ext) in missing.iter().filter(|(_, mw, _)| *mw == w) {
                        let bytes = match *ext {
                            "webp" => webp(&copy, quality)?,
                            "png" => png(&copy)?,
                            _ => jpeg(&copy, quality)?,
                        };
                        write_atomic(path, &bytes).map_err(|e| e.to_string())?;
                    }
                    Ok(())
                })
            })();
            made.err().map(|e| (p.shown.clone(), e))
        })
        .collect()
}
