package links

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// quiet is the blank border around a QR code, in modules (the standard asks
// for four).
const quiet = 4

// qrBitmap encodes text at error correction level M (15% of the code may be
// damaged or covered and it still reads) and returns rows of dark modules.
func qrBitmap(text string) ([][]bool, error) {
	qr, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	var w bitmapWriter
	if err := qr.Save(&w); err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return w.bits, nil
}

type bitmapWriter struct{ bits [][]bool }

func (w *bitmapWriter) Write(m qrcode.Matrix) error { w.bits = m.Bitmap(); return nil }
func (w *bitmapWriter) Close() error                { return nil }

// QRPNG renders text as a black-on-white PNG with scale pixels per module.
func QRPNG(text string, scale int) ([]byte, error) {
	bits, err := qrBitmap(text)
	if err != nil {
		return nil, err
	}
	scale = min(max(scale, 1), 32)
	n := len(bits) + 2*quiet
	img := image.NewPaletted(image.Rect(0, 0, n*scale, n*scale), color.Palette{color.White, color.Black})
	for y, row := range bits {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				for dx := 0; dx < scale; dx++ {
					img.SetColorIndex((x+quiet)*scale+dx, (y+quiet)*scale+dy, 1)
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// QRSVG renders text as a scalable SVG: one path of unit squares on a white
// background, crisp at any print size.
func QRSVG(text string) ([]byte, error) {
	bits, err := qrBitmap(text)
	if err != nil {
		return nil, err
	}
	n := len(bits) + 2*quiet
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges">`, n, n, n*8, n*8)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x := 0; x < len(row); x++ {
			if !row[x] {
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+quiet, y+quiet, run, run)
			x += run - 1
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}
