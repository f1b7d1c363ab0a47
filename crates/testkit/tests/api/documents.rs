//! Test documents are rendered in the font they name, and cached per font: a PDF made
//! in one family is never handed out for another.

use testkit::documents::{self, Font};

#[test]
fn each_font_gets_its_own_rendering() {
    let html = "<html><head><title>CV</title></head><body><h1>Claire Martin</h1><p>Soudeuse TIG</p></body></html>";
    let pdfs: Vec<Vec<u8>> = Font::ALL
        .iter()
        .map(|&font| documents::from_html(html, "pdf", font))
        .collect();
    for (font, pdf) in Font::ALL.iter().zip(&pdfs) {
        let family = font.family().replace(' ', "");
        for (other, other_pdf) in Font::ALL.iter().zip(&pdfs) {
            let embeds = other_pdf
                .windows(family.len())
                .any(|w| w == family.as_bytes());
            assert_eq!(embeds, font == other, "{family} in the {other:?} PDF");
        }
        // Asked again: the cached file, the same bytes.
        assert_eq!(&documents::from_html(html, "pdf", *font), pdf);
    }
}
