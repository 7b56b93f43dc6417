/// How the code under test was compiled. Some properties (allocation-free control cycles) belong to
/// optimised code only; `make test` builds in release.
public enum BuildConfiguration {
    public static var isOptimized: Bool {
        #if DEBUG
            return false
        #else
            return true
        #endif
    }
}
