"""Plausible bugs of day 0.1, drawn from the course plan and from common student mistakes."""

from . import mutant

MUTANTS = [
    # make_rays_1d
    mutant("make_rays_1d", "arange excludes the last pixel",
           "torch.linspace(-y_limit, y_limit, num_pixels)",
           "torch.arange(-y_limit, y_limit, 2 * y_limit / max(num_pixels - 1, 1))[:num_pixels]",
           "test_make_rays_1d"),
    mutant("make_rays_1d", "y put in the z slot",
           "rays[:, 1, 1] = torch.linspace", "rays[:, 1, 2] = torch.linspace", "test_make_rays_1d"),
    mutant("make_rays_1d", "direction x left at 0 (the origin's x set instead)",
           "rays[:, 1, 0] = 1.0", "rays[:, 0, 0] = 1.0", "test_make_rays_1d"),
    mutant("make_rays_1d", "pixels at the centres of num_pixels bins (endpoints excluded)",
           "torch.linspace(-y_limit, y_limit, num_pixels)",
           "(torch.arange(num_pixels) + 0.5) * (2 * y_limit / num_pixels) - y_limit",
           "test_make_rays_1d"),
    # intersect_ray_1d
    mutant("intersect_ray_1d", "missing u >= 0 (hits behind the origin)",
           "u >= 0 and 0 <= v <= 1", "0 <= v <= 1", "test_intersect_ray_1d"),
    mutant("intersect_ray_1d", "half-open v range",
           "0 <= v <= 1", "0 <= v < 1", "test_intersect_ray_1d__edges"),
    mutant("intersect_ray_1d", "no singular check (LinAlgError on parallel segments)",
           "if torch.linalg.det(mat).abs() < 1e-8:", "if False:", "test_intersect_ray_1d__edges"),
    mutant("intersect_ray_1d", "uses all three coordinates",
           "ray[:, :2], segment[:, :2]", "ray, segment",
           {"test_intersect_ray_1d", "test_intersect_ray_1d__edges"}),
    mutant("intersect_ray_1d", "uses y and z instead of x and y",
           "ray[:, :2], segment[:, :2]", "ray[:, 1:], segment[:, 1:]",
           {"test_intersect_ray_1d", "test_intersect_ray_1d__edges"}),
    # intersect_rays_1d
    mutant("intersect_rays_1d", "any over the rays axis instead of the segments axis",
           "return hits.any(dim=-1)", "return hits.any(dim=0)",
           {"test_intersect_rays_1d", "test_intersect_rays_1d__edges"}),
    mutant("intersect_rays_1d", "singular matrices not replaced before solve (crash)",
           "    mat[singular] = torch.eye(2)\n", "", "test_intersect_rays_1d"),
    mutant("intersect_rays_1d", "singular matrices replaced but not masked out (spurious hits)",
           " & ~singular", "", "test_intersect_rays_1d"),
    mutant("intersect_rays_1d", "max over an empty axis (no segments) raises",
           "return hits.any(dim=-1)", "return hits.max(dim=-1).values", "test_intersect_rays_1d__edges"),
    mutant("intersect_rays_1d", ".view on a non-contiguous input",
           "O = rays[:, None, 0, :2]", "O = rays.view(-1, 6)[:, None, :2]",
           "test_intersect_rays_1d__edges"),
    # make_rays_2d
    mutant("make_rays_2d", "y and z swapped",
           "torch.stack([Y.flatten(), Z.flatten()], dim=-1)", "torch.stack([Z.flatten(), Y.flatten()], dim=-1)",
           {"test_make_rays_2d", "test_make_rays_2d__order"}),
    mutant("make_rays_2d", "meshgrid indexing 'xy' (z-major order)",
           'indexing="ij"', 'indexing="xy"', "test_make_rays_2d__order"),
    mutant("make_rays_2d", "y uses z_limit",
           "torch.linspace(-y_limit, y_limit, num_pixels_y)", "torch.linspace(-z_limit, z_limit, num_pixels_y)",
           {"test_make_rays_2d", "test_make_rays_2d__order"}),
    # triangle_ray_intersects
    mutant("triangle_ray_intersects", "strict u + v < 1 (edge hits missed)",
           "u + v <= 1", "u + v < 1", "test_triangle_ray_intersects__edges"),
    mutant("triangle_ray_intersects", "s >= 0 not checked",
           "s >= 0 and ", "", "test_triangle_ray_intersects"),
    mutant("triangle_ray_intersects", "matrix built with +D (sign of s flipped)",
           "[-D, B - A, C - A]", "[D, B - A, C - A]",
           {"test_triangle_ray_intersects", "test_triangle_ray_intersects__edges"}),
    mutant("triangle_ray_intersects", "no singular check (LinAlgError on parallel rays)",
           "if torch.linalg.det(mat).abs() < 1e-8:", "if False:", "test_triangle_ray_intersects__edges"),
    # raytrace_triangle
    mutant("raytrace_triangle", "singular matrices replaced but not masked out (spurious hits)",
           " & ~singular", "", "test_raytrace_triangle__edges"),
    mutant("raytrace_triangle", "singular matrices not replaced before solve (crash)",
           "    mat[singular] = torch.eye(3)\n", "", "test_raytrace_triangle__edges"),
    mutant("raytrace_triangle", "vectors stacked as rows instead of columns",
           "C - A), dim=-1)", "C - A), dim=-2)", "test_raytrace_triangle"),
    mutant("raytrace_triangle", "s >= 0 not checked",
           "(s >= 0) & ", "", "test_raytrace_triangle"),
    # raytrace_mesh
    mutant("raytrace_mesh", "first hit instead of nearest",
           "return dist.min(dim=-1).values",
           "return dist.gather(-1, hit.int().argmax(dim=-1, keepdim=True)).squeeze(-1)",
           "test_raytrace_mesh"),
    mutant("raytrace_mesh", "0 for misses",
           "torch.where(hit, s, torch.inf)", "torch.where(hit, s, 0.0)",
           {"test_raytrace_mesh", "test_raytrace_mesh__edges"}),
    mutant("raytrace_mesh", "nan for misses",
           "torch.where(hit, s, torch.inf)", "torch.where(hit, s, torch.nan)",
           {"test_raytrace_mesh", "test_raytrace_mesh__edges"}),
    mutant("raytrace_mesh", "hits behind the origin kept",
           "(s >= 0) & ", "", "test_raytrace_mesh"),
    mutant("raytrace_mesh", "singular matrices replaced but not masked out (spurious hits)",
           " & ~singular", "", "test_raytrace_mesh__edges"),
    mutant("raytrace_mesh", "min over zero triangles raises",
           "if len(triangles) == 0:", "if False:", "test_raytrace_mesh__edges"),
]

# Correct solutions written differently from the reference: the tests must accept them.
ALTERNATIVES = {
    # Pixel heights from arange and a step (float64, one pixel handled apart), stacked, not filled in.
    "make_rays_1d": '''def make_rays_1d(num_pixels: int, y_limit: float) -> Float[Tensor, "num_pixels 2 3"]:
    """Rays from the origin through (1, y, 0), y evenly spaced from -y_limit to y_limit inclusive."""
    step = 2 * y_limit / (num_pixels - 1) if num_pixels > 1 else 0.0
    ys = (torch.arange(num_pixels, dtype=torch.float64) * step - y_limit).float()
    directions = torch.stack([torch.ones_like(ys), ys, torch.zeros_like(ys)], dim=-1)
    return torch.stack([torch.zeros_like(directions), directions], dim=1)
''',
    # Cramer's rule without any division, in Python floats: signs of the numerators against det.
    "intersect_ray_1d": '''def intersect_ray_1d(ray: Float[Tensor, "2 3"], segment: Float[Tensor, "2 3"]) -> bool:
    """Whether the ray hits the segment, using the x and y coordinates only."""
    (ox, oy), (dx, dy) = ray[0, :2].tolist(), ray[1, :2].tolist()
    (ax, ay), (bx, by) = segment[0, :2].tolist(), segment[1, :2].tolist()
    ex, ey = ax - bx, ay - by  # L1 - L2
    rx, ry = ax - ox, ay - oy  # L1 - O
    det = dx * ey - dy * ex
    if abs(det) < 1e-12:
        return False
    sign = 1.0 if det > 0 else -1.0
    u_num = (rx * ey - ex * ry) * sign  # u * |det|
    v_num = (dx * ry - dy * rx) * sign  # v * |det|
    return u_num >= 0 and 0 <= v_num <= abs(det)
''',
    # Vectorised division-free Cramer's rule (2-D cross products) in float64, no linalg.solve.
    "intersect_rays_1d": '''def intersect_rays_1d(rays: Float[Tensor, "nrays 2 3"], segments: Float[Tensor, "nsegments 2 3"]
                      ) -> Bool[Tensor, "nrays"]:
    """For each ray, whether it hits at least one of the segments (x and y only)."""
    cross2 = lambda a, b: a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    r, s = rays.double(), segments.double()
    origin, direction = r[:, 0, :2].unsqueeze(1), r[:, 1, :2].unsqueeze(1)  # (nrays, 1, 2)
    first, second = s[:, 0, :2].unsqueeze(0), s[:, 1, :2].unsqueeze(0)  # (1, nsegments, 2)
    edge, rhs = first - second, first - origin
    det = cross2(direction, edge)  # (nrays, nsegments)
    sign = torch.sign(det)
    u_scaled = cross2(rhs, edge) * sign
    v_scaled = cross2(direction, rhs) * sign
    hits = (det.abs() > 1e-12) & (u_scaled >= 0) & (v_scaled >= 0) & (v_scaled <= det.abs())
    return hits.any(dim=1)
''',
    # Cartesian product of the two linspaces (y-major) and concatenation, not meshgrid and filling.
    "make_rays_2d": '''def make_rays_2d(num_pixels_y: int, num_pixels_z: int, y_limit: float, z_limit: float
                 ) -> Float[Tensor, "nrays 2 3"]:
    """Rays from the origin through a num_pixels_y x num_pixels_z grid on x = 1, in y-major order."""
    grid = torch.cartesian_prod(torch.linspace(-y_limit, y_limit, num_pixels_y),
                                torch.linspace(-z_limit, z_limit, num_pixels_z)).reshape(-1, 2)
    directions = torch.cat([torch.ones(len(grid), 1), grid], dim=1)
    return torch.stack([torch.zeros_like(directions), directions], dim=1)
''',
    # Moller-Trumbore (cross and dot products, float64), comparing scaled barycentrics, no solve.
    "triangle_ray_intersects": '''def triangle_ray_intersects(A: Float[Tensor, "3"], B: Float[Tensor, "3"], C: Float[Tensor, "3"],
                            O: Float[Tensor, "3"], D: Float[Tensor, "3"]) -> bool:
    """Whether the ray O + sD (s >= 0) hits the triangle ABC, boundary included."""
    A, B, C, O, D = (x.double() for x in (A, B, C, O, D))
    e1, e2, t = B - A, C - A, O - A
    p = torch.linalg.cross(D, e2)
    det = torch.dot(e1, p)
    if abs(det.item()) < 1e-12:
        return False
    q = torch.linalg.cross(t, e1)
    sign = 1.0 if det.item() > 0 else -1.0
    u, v, s = (torch.dot(t, p) * sign).item(), (torch.dot(D, q) * sign).item(), (torch.dot(e2, q) * sign).item()
    return s >= 0 and u >= 0 and v >= 0 and u + v <= abs(det.item())
''',
    # Vectorised Moller-Trumbore over the rays (float64), no matrices and no solve.
    "raytrace_triangle": '''def raytrace_triangle(rays: Float[Tensor, "nrays 2 3"], triangle: Float[Tensor, "3 3"]
                      ) -> Bool[Tensor, "nrays"]:
    """For each ray, whether it hits the triangle (corners as rows), boundary included."""
    r, tri = rays.double(), triangle.double()
    origins, directions = r[:, 0], r[:, 1]
    e1 = (tri[1] - tri[0]).expand_as(directions)
    e2 = (tri[2] - tri[0]).expand_as(directions)
    t = origins - tri[0]
    p = torch.linalg.cross(directions, e2, dim=-1)
    det = (e1 * p).sum(-1)
    q = torch.linalg.cross(t, e1, dim=-1)
    sign = torch.sign(det)
    u = (t * p).sum(-1) * sign
    v = (directions * q).sum(-1) * sign
    s = (e2 * q).sum(-1) * sign
    return (det.abs() > 1e-12) & (s >= 0) & (u >= 0) & (v >= 0) & (u + v <= det.abs())
''',
    # solve_ex (no error on singular systems) masked with torch.where, no in-place identity swap;
    # an extra inf column makes the minimum well defined with no triangles, instead of a special case.
    "raytrace_mesh": '''def raytrace_mesh(rays: Float[Tensor, "nrays 2 3"], triangles: Float[Tensor, "ntriangles 3 3"]
                  ) -> Float[Tensor, "nrays"]:
    """For each ray, the s of its nearest hit among the triangles, or inf if it hits none."""
    nr, nt = rays.shape[0], triangles.shape[0]
    origins, directions = rays[:, 0].unsqueeze(1), rays[:, 1].unsqueeze(1)  # (nr, 1, 3)
    corner = triangles[:, 0].unsqueeze(0)  # (1, nt, 3)
    columns = [(-directions).expand(nr, nt, 3),
               (triangles[:, 1] - triangles[:, 0]).unsqueeze(0).expand(nr, nt, 3),
               (triangles[:, 2] - triangles[:, 0]).unsqueeze(0).expand(nr, nt, 3)]
    systems = torch.stack(columns, dim=-1)  # (nr, nt, 3, 3)
    solvable = torch.linalg.det(systems).abs() >= 1e-8
    solution, _ = torch.linalg.solve_ex(systems, (origins - corner).expand(nr, nt, 3), check_errors=False)
    s, u, v = solution[..., 0], solution[..., 1], solution[..., 2]
    hit = solvable & (s >= 0) & (u >= 0) & (v >= 0) & (u + v <= 1)
    depth = torch.where(hit, s, torch.full_like(s, math.inf))
    sentinel = torch.full((nr, 1), math.inf, dtype=depth.dtype)
    return torch.cat([depth, sentinel], dim=1).amin(dim=1)
''',
}
