package come4j.calib;

/**
 * Eigenvalues and eigenvectors of a small symmetric matrix by cyclic Jacobi rotations (robust, and fast enough for the
 * few hundred samples a diffusion map sees). vectors[r][c] is row r of eigenvector c.
 */
record SymmetricEigen(double[] values, double[][] vectors) {
    static SymmetricEigen of(double[][] m) {
        int n = m.length;
        double[][] a = new double[n][], v = new double[n][n];
        for (int i = 0; i < n; i++) {
            a[i] = m[i].clone();
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0, total = 0;
            for (int p = 0; p < n; p++)
                for (int q = 0; q < n; q++) {
                    total += a[p][q] * a[p][q];
                    if (p != q) off += a[p][q] * a[p][q];
                }
            if (off <= 1e-30 * total) break;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta == 0 ? 1 : theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) { // columns p and q
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) { // rows p and q
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[i][i];
        return new SymmetricEigen(values, v);
    }
}
