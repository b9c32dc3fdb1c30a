package predict

import (
	"errors"
	"fmt"
	"math"
)

// FitLogistic fits an L2-regularised logistic regression by Newton's
// method (iteratively reweighted least squares): it minimises
//
//	−Σ [y log p + (1−y) log(1−p)] + λ/2 · Σ β_j²
//
// over the intercept and the coefficients β (the intercept is not
// penalised). x holds one row per example, all rows of the same length;
// the caller standardises the columns so that one λ suits them all. The
// result is deterministic: the same input gives the same bits.
func FitLogistic(x [][]float64, y []bool, lambda float64) (intercept float64, coef []float64, err error) {
	n := len(x)
	if n == 0 || n != len(y) {
		return 0, nil, fmt.Errorf("logistic regression: %d rows and %d labels", n, len(y))
	}
	if lambda < 0 || math.IsNaN(lambda) || math.IsInf(lambda, 0) {
		return 0, nil, fmt.Errorf("logistic regression: bad λ %v", lambda)
	}
	d := len(x[0])
	for i, r := range x {
		if len(r) != d {
			return 0, nil, fmt.Errorf("logistic regression: row %d has %d values, want %d", i, len(r), d)
		}
		for _, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, nil, fmt.Errorf("logistic regression: row %d holds %v", i, v)
			}
		}
	}
	pos := 0
	for _, v := range y {
		if v {
			pos++
		}
	}
	// Start from the base rate, clamped so that one class alone stays finite.
	rate := math.Min(math.Max(float64(pos)/float64(n), 1e-6), 1-1e-6)
	// w[0] is the intercept, w[1:] the coefficients.
	w := make([]float64, d+1)
	w[0] = math.Log(rate / (1 - rate))
	k := d + 1
	grad := make([]float64, k)
	hess := make([]float64, k*k)
	step := make([]float64, k)
	trial := make([]float64, k)
	obj := objective(x, y, w, lambda)
	for iter := 0; iter < 100; iter++ {
		clear(grad)
		clear(hess)
		for i, r := range x {
			p := sigmoid(eta(r, w))
			g := p
			if y[i] {
				g = p - 1
			}
			h := math.Max(p*(1-p), 1e-12)
			grad[0] += g
			hess[0] += h
			for a, va := range r {
				grad[a+1] += g * va
				ha := h * va
				hess[(a+1)*k] += ha
				row := hess[(a+1)*k:]
				for b := 0; b <= a; b++ {
					row[b+1] += ha * r[b]
				}
			}
		}
		for a := 1; a < k; a++ {
			grad[a] += lambda * w[a]
			hess[a*k+a] += lambda
			for b := 1; b < a; b++ {
				hess[b*k+a] = hess[a*k+b]
			}
			hess[a] = hess[a*k]
		}
		if err := solveCholesky(hess, grad, step, k); err != nil {
			return 0, nil, err
		}
		// Halve the step until the objective does not grow (Newton's step
		// is almost always accepted whole).
		t := 1.0
		var next float64
		for {
			for j := range w {
				trial[j] = w[j] - t*step[j]
			}
			next = objective(x, y, trial, lambda)
			if next <= obj || t < 1e-10 {
				break
			}
			t /= 2
		}
		maxStep := 0.0
		for j := range w {
			maxStep = math.Max(maxStep, math.Abs(trial[j]-w[j]))
		}
		copy(w, trial)
		done := maxStep < 1e-9 || obj-next < 1e-12*(1+math.Abs(obj))
		obj = next
		if done {
			break
		}
	}
	return w[0], append([]float64(nil), w[1:]...), nil
}

func eta(r []float64, w []float64) float64 {
	z := w[0]
	for j, v := range r {
		z += w[j+1] * v
	}
	return z
}

// objective is the penalised negative log-likelihood.
func objective(x [][]float64, y []bool, w []float64, lambda float64) float64 {
	s := 0.0
	for i, r := range x {
		z := eta(r, w)
		// log(1+e^z) − y z, computed without overflow.
		l := softplus(z)
		if y[i] {
			l -= z
		}
		s += l
	}
	for _, v := range w[1:] {
		s += lambda / 2 * v * v
	}
	return s
}

func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

var errNotPositiveDefinite = errors.New("logistic regression: the Hessian is not positive definite (a column is constant or duplicated and λ is 0)")

// solveCholesky solves A x = b for a symmetric positive definite k×k
// matrix A (row major, overwritten by its Cholesky factor).
func solveCholesky(a, b, x []float64, k int) error {
	for j := 0; j < k; j++ {
		s := a[j*k+j]
		for m := 0; m < j; m++ {
			s -= a[j*k+m] * a[j*k+m]
		}
		if s <= 1e-300 || math.IsNaN(s) {
			return errNotPositiveDefinite
		}
		l := math.Sqrt(s)
		a[j*k+j] = l
		for i := j + 1; i < k; i++ {
			s := a[i*k+j]
			for m := 0; m < j; m++ {
				s -= a[i*k+m] * a[j*k+m]
			}
			a[i*k+j] = s / l
		}
	}
	// Forward: L z = b; backward: Lᵀ x = z.
	for i := 0; i < k; i++ {
		s := b[i]
		for m := 0; m < i; m++ {
			s -= a[i*k+m] * x[m]
		}
		x[i] = s / a[i*k+i]
	}
	for i := k - 1; i >= 0; i-- {
		s := x[i]
		for m := i + 1; m < k; m++ {
			s -= a[m*k+i] * x[m]
		}
		x[i] = s / a[i*k+i]
	}
	return nil
}
